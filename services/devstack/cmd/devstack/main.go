// Command devstack runs riacho on embedded defaults in one process: a Kafka-protocol broker,
// a schema registry, a local-filesystem lake and every service, optionally with demo traffic.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/riacho/riacho/services/devstack/internal/devstack"
	intake "github.com/riacho/riacho/services/intake/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The stack allocates much short-lived state per request: collect less often unless GOGC
	// is set (GOMEMLIMIT still applies), as the intake does when it runs alone.
	intake.TuneGC(os.Environ())
	if err := devstack.Main(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}
