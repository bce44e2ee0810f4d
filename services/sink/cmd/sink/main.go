// Command sink is riacho's lake writer: it consumes the raw (and curated)
// topics into Parquet files and Iceberg tables on object storage, exactly
// once. Configuration is read from RIACHO_* environment variables; see
// docs/sink.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/riacho/riacho/services/sink/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app.TuneGC(os.Environ())
	if err := app.Main(ctx, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
}
