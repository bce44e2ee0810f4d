// Command transform is riacho's stream transformer: it runs a dbt-style
// project's SQL models continuously on DuckDB, from the raw topics to
// staging.<model>, exactly once. Configuration is read from RIACHO_*
// environment variables; see docs/transform.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/riacho/riacho/services/transform/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Main(ctx, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "transform:", err)
		os.Exit(1)
	}
}
