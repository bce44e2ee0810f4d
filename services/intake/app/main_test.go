package app

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: the intake, its producer,
// its Control server and the test broker must all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
