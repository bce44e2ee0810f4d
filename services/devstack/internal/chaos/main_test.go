package chaos

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	intake "github.com/riacho/riacho/services/intake/app"
	metrics "github.com/riacho/riacho/services/metrics/app"
	quality "github.com/riacho/riacho/services/quality/app"
	sink "github.com/riacho/riacho/services/sink/app"
	transform "github.com/riacho/riacho/services/transform/app"
)

// serviceEnv selects, in a re-executed test binary, the service whose
// app.Main the process runs.
const serviceEnv = "RIACHO_CHAOS_SERVICE"

// mains are the services' process entry points, by name.
var mains = map[string]func(context.Context, []string) error{
	"intake":    intake.Main,
	"sink":      sink.Main,
	"transform": transform.Main,
	"quality":   quality.Main,
	"metrics":   metrics.Main,
}

// TestMain runs a service when the binary is re-executed as one (see
// serviceEnv); otherwise it runs the tests.
func TestMain(m *testing.M) {
	if name := os.Getenv(serviceEnv); name != "" {
		os.Exit(serviceMain(name))
	}
	os.Exit(m.Run())
}

// serviceMain runs the named service's Main until SIGTERM or SIGINT.
func serviceMain(name string) int {
	run, ok := mains[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s=%q: no such service\n", serviceEnv, name)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
