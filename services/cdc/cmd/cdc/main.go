// Command cdc is riacho's change data capture service. Configuration is
// read from RIACHO_* environment variables and the sources file named by
// RIACHO_CDC_CONFIG; see docs/cdc.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/riacho/riacho/services/cdc/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Main(ctx, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "cdc:", err)
		os.Exit(1)
	}
}
