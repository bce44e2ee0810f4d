package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Exit codes of riachoctl.
const (
	// ExitOK means the call succeeded.
	ExitOK = 0
	// ExitFailed means a call failed or a service is unreachable or not serving.
	ExitFailed = 1
	// ExitUsage means the command line was wrong.
	ExitUsage = 2
)

// TokenEnv is the environment variable read when --token is not given.
const TokenEnv = "RIACHO_CONTROL_TOKEN" //nolint:gosec // a variable name, not a credential

const usage = `usage: riachoctl [flags] <command> [args]

commands:
  status                     state, lag, rates, last error and commands
  pause [reason ...]         stop taking new work (reason is recorded)
  resume                     undo pause
  reload                     re-read content files (models, suites, metrics)
  command NAME [key=value ...]  run a service-specific verb
  health                     gRPC health check

flags (before or after the command; use -- to end flags):
  --addr host:port   control address of one service
  --service name     a devstack service: %s
                     ("all" works with status and health)
  --token T          bearer token (default: $RIACHO_CONTROL_TOKEN)
  --json             print protojson instead of text
  --timeout d        per-call timeout (default 5s)

exit status: 0 ok, 1 the call failed, 2 usage error
`

// errUsage marks command-line mistakes.
var errUsage = errors.New("usage")

// options is the parsed command line.
type options struct {
	addr    string
	service string
	token   string
	json    bool
	timeout time.Duration
	command string
	args    []string
}

// runner holds what a run depends on, so tests can swap the endpoints.
type runner struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	endpoints      []Endpoint
}

// Run executes riachoctl with args (without the program name), writing
// results to stdout and errors to stderr, and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	r := &runner{stdout: stdout, stderr: stderr, getenv: os.Getenv, endpoints: DevstackEndpoints()}
	return r.run(ctx, args)
}

// run parses args and dispatches the command.
func (r *runner) run(ctx context.Context, args []string) int {
	opts, err := r.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(r.stdout, usage, endpointNames(r.endpoints))
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(r.stderr, "riachoctl: %v\n\n", err)
		fmt.Fprintf(r.stderr, usage, endpointNames(r.endpoints))
		return ExitUsage
	}
	if opts.service == allServices {
		return r.runAll(ctx, opts)
	}
	return r.runOne(ctx, opts)
}

// parse reads flags placed anywhere on the line and checks the command.
func (r *runner) parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("riachoctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", "", "control address host:port")
	fs.StringVar(&o.service, "service", "", "devstack service name or all")
	fs.StringVar(&o.token, "token", "", "bearer token")
	fs.BoolVar(&o.json, "json", false, "print protojson")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-call timeout")

	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, err
			}
			return o, fmt.Errorf("%w: %w", errUsage, err)
		}
		left := fs.Args()
		if used := len(rest) - len(left); used > 0 && rest[used-1] == "--" {
			pos = append(pos, left...)
			break
		}
		if len(left) == 0 {
			break
		}
		pos, rest = append(pos, left[0]), left[1:]
	}
	if o.token == "" {
		o.token = r.getenv(TokenEnv)
	}
	if o.timeout <= 0 {
		return o, fmt.Errorf("%w: --timeout must be positive", errUsage)
	}
	if len(pos) == 0 {
		return o, fmt.Errorf("%w: missing command", errUsage)
	}
	o.command, o.args = pos[0], pos[1:]
	if err := r.checkTarget(&o); err != nil {
		return o, err
	}
	return o, checkArgs(o)
}

// checkTarget resolves --addr / --service into o.addr.
func (r *runner) checkTarget(o *options) error {
	switch {
	case o.addr != "" && o.service != "":
		return fmt.Errorf("%w: give --addr or --service, not both", errUsage)
	case o.addr == "" && o.service == "":
		return fmt.Errorf("%w: give --addr host:port or --service name", errUsage)
	case o.service == allServices:
		if o.command != "status" && o.command != "health" {
			return fmt.Errorf("%w: --service all works only with status and health", errUsage)
		}
	case o.service != "":
		ep, ok := lookupEndpoint(r.endpoints, o.service)
		if !ok {
			return fmt.Errorf("%w: unknown service %q (known: %s)", errUsage, o.service, endpointNames(r.endpoints))
		}
		o.addr = ep.Addr
	}
	return nil
}

// checkArgs validates the command's positional arguments.
func checkArgs(o options) error {
	switch o.command {
	case "status", "resume", "reload", "health":
		if len(o.args) > 0 {
			return fmt.Errorf("%w: %s takes no arguments, got %q", errUsage, o.command, strings.Join(o.args, " "))
		}
	case "pause":
	case "command":
		if len(o.args) == 0 || o.args[0] == "" {
			return fmt.Errorf("%w: command needs a NAME", errUsage)
		}
		_, err := parseKV(o.args[1:])
		return err
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, o.command)
	}
	return nil
}

// parseKV turns key=value words into a map.
func parseKV(words []string) (map[string]string, error) {
	out := make(map[string]string, len(words))
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: argument %q is not key=value", errUsage, w)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%w: argument %q given twice", errUsage, k)
		}
		out[k] = v
	}
	return out, nil
}
