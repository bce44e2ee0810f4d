// Command riachoctl is the operator's CLI over the riacho.control.v1.Control
// gRPC API that every riacho service exposes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/riacho/riacho/services/riachoctl/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
