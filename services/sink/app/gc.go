package app

import "github.com/riacho/riacho/libs/telemetry"

// DefaultGCPercent is the garbage collector target (GOGC) the sink runs
// with unless the GOGC environment variable is set. Decoding allocates a
// map per record, so collecting less often than Go's default of 100 buys
// most of the throughput (BenchmarkKafkaToParquet: about +20% at 200, +30%
// at 400) for a heap up to three times the live data (open files' row
// groups); GOMEMLIMIT, when set, still caps it.
const DefaultGCPercent = 200

// TuneGC sets the process's GC target to DefaultGCPercent when environ has
// no GOGC entry.
func TuneGC(environ []string) { telemetry.TuneGC(environ, DefaultGCPercent) }
