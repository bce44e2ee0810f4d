package devstack

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when the stack leaves goroutines behind after Stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
