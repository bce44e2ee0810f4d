// Command benchbody prints the ~1 KiB WhatsApp text-message notification the intake load
// benchmark posts (scripts/bench/intake.sh).
package main

import (
	"os"

	"github.com/riacho/riacho/services/devstack/internal/demo"
)

func main() {
	_, _ = os.Stdout.Write(demo.BenchNotification())
}
