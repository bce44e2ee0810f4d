package telemetry

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	TuneGC([]string{"GOGC=50"}, 300)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set by the operator was overridden: %d", got)
	}
	TuneGC([]string{"PATH=/bin"}, 300)
	if got := debug.SetGCPercent(100); got != 300 {
		t.Errorf("GC percent %d, want 300", got)
	}
}
