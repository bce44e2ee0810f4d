package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a stack leaves goroutines behind; the
// benchmark's shared stack is stopped first.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(stopSharedAfter{m})
}

// stopSharedAfter runs the tests and benchmarks, then stops the stack the
// benchmarks share.
type stopSharedAfter struct{ m *testing.M }

func (s stopSharedAfter) Run() int {
	code := s.m.Run()
	if err := stopShared(); err != nil && code == 0 {
		println("stop the benchmarks' stack:", err.Error())
		code = 1
	}
	return code
}
