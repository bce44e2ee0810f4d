package telemetry

import (
	"runtime/debug"
	"strings"
)

// TuneGC sets the process's garbage collector target (GOGC) to percent
// when environ has no GOGC entry. Services that decode a map per record
// collect less often for throughput, at the cost of a larger heap; an
// operator's GOGC (and GOMEMLIMIT) still wins.
func TuneGC(environ []string, percent int) {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GOGC=") {
			return
		}
	}
	debug.SetGCPercent(percent)
}
