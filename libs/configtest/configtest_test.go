package configtest

import (
	"errors"
	"testing"
)

// fakeTB records failures instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Errorf(string, ...any) { f.failed = true }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }

func TestRequireNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		names  []string
		failed bool
	}{
		{"names all", errors.New("RIACHO_A bad; RIACHO_B bad"), []string{"RIACHO_A", "RIACHO_B"}, false},
		{"misses one", errors.New("RIACHO_A bad"), []string{"RIACHO_A", "RIACHO_B"}, true},
		{"no error", nil, []string{"RIACHO_A"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTB{TB: t}
			RequireNames(f, tc.err, tc.names...)
			if f.failed != tc.failed {
				t.Errorf("failed = %v, want %v", f.failed, tc.failed)
			}
		})
	}
}

func TestRequireNoSecret(t *testing.T) {
	f := &fakeTB{TB: t}
	RequireNoSecret(f, errors.New("password hunter2 rejected"), "hunter2")
	if !f.failed {
		t.Error("a leaked secret was not reported")
	}
	f = &fakeTB{TB: t}
	RequireNoSecret(f, errors.New("password rejected"), "hunter2")
	if f.failed {
		t.Error("reported a leak that is not there")
	}
}
