package app

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    int
	}{
		{"GOGC unset", []string{"PATH=/bin", "GOMEMLIMIT=1GiB"}, DefaultGCPercent},
		{"GOGC set", []string{"GOGC=150"}, 77},
		{"GOGC=off set", []string{"GOGC=off"}, 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := debug.SetGCPercent(77) // a value TuneGC would not choose
			defer debug.SetGCPercent(prev)
			TuneGC(tt.environ)
			if got := debug.SetGCPercent(77); got != tt.want {
				t.Fatalf("GC percent after TuneGC(%q) = %d, want %d", tt.environ, got, tt.want)
			}
		})
	}
}
