// Command metrics is riacho's semantic layer: it loads the curated topics
// into the warehouse exactly once and answers dbt metric queries over gRPC
// (riacho.metrics.v1.MetricsService) and REST. Configuration is read from
// RIACHO_* environment variables.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/riacho/riacho/services/metrics/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Main(ctx, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "metrics:", err)
		os.Exit(1)
	}
}
