// Command quality is riacho's data quality gate: it checks the staging
// topics against Great Expectations suites and dbt tests, routes records to
// curated or quarantine topics exactly once, publishes window results and
// alerts. Configuration is read from RIACHO_* environment variables.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/riacho/riacho/libs/telemetry"
	"github.com/riacho/riacho/services/quality/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	telemetry.TuneGC(os.Environ(), app.DefaultGCPercent)
	if err := app.Main(ctx, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "quality:", err)
		os.Exit(1)
	}
}
