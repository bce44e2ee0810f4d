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

// Environment variables riachoctl reads.
const (
	// TokenEnv holds the Control bearer token when --token is not given.
	TokenEnv = "RIACHO_CONTROL_TOKEN" //nolint:gosec // a variable name, not a credential
	// MetricsTokenEnv holds the MetricsService bearer token when
	// --metrics-token is not given; without either, the Control token is sent.
	MetricsTokenEnv = "RIACHO_METRICS_TOKEN" //nolint:gosec // a variable name, not a credential
	// EndpointsEnv lists the services' addresses as name=host:port,...
	EndpointsEnv = "RIACHO_ENDPOINTS"
)

const usage = `usage: riachoctl [flags] <command> [args]

the pipeline:
  status                       one table for the whole pipeline: state, lag, rates,
                               last error and freshness per source
                               (with --service or --addr: one service in full)
  health                       gRPC health of every service (or of one)

steering (--service or --addr picks the service; the shortcuts know theirs):
  pause [reason ...]           stop taking new work (the reason is recorded)
  resume                       undo pause
  reload                       re-read content files (models, suites, metrics)
  replay model=M from_offset=N|from_time=T [partitions=0,1]
                               transform: read a model's input again
  snapshot source=S table=T    cdc: snapshot one table now
  flush [table=NS.NAME]        sink: commit the open lake files now
  compact table=NS.NAME day=YYYY-MM-DD [target_bytes=N]
                               sink: merge a day's small files
  command NAME [key=value ...] any verb a service lists under commands

the metrics API:
  metrics list                 the metrics defined, with their freshness
  metrics query METRIC[,METRIC] [grain=G] [dimensions=D1,D2] [start=T] [end=T]
                [where="FIELD OP VALUE[,VALUE]"]... [order=[-]FIELD,...] [limit=N] [no_cache=true]

flags (before or after the command; -- ends flags):
  --service NAME     a service: %s
  --addr host:port   a service's gRPC address, instead of --service
  --endpoints LIST   name=host:port,... (default $RIACHO_ENDPOINTS, else the devstack's)
  --token T          Control bearer token (default $RIACHO_CONTROL_TOKEN)
  --metrics-token T  metrics API bearer token (default $RIACHO_METRICS_TOKEN, else the Control token)
  --output F         table (default) or json; --json is short for --output json
  --tls              connect with TLS (system roots, or --ca)
  --ca FILE          PEM certificates to trust with --tls
  --timeout d        per-call timeout (default 5s)

exit status: 0 ok, 1 a call failed or a service is unreachable, 2 usage error
`

// errUsage marks command-line mistakes.
var errUsage = errors.New("usage")

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// options is the parsed command line.
type options struct {
	addr         string
	service      string
	endpoints    string
	token        string
	metricsToken string
	output       string
	json         bool
	tls          bool
	caFile       string
	timeout      time.Duration
	command      string
	args         []string
	// verb is the Control verb a shortcut or "command" runs.
	verb string
	// all is true when the command goes to every endpoint.
	all bool
}

// shortcut is a command that runs one service's Control verb.
type shortcut struct {
	service string
	verb    string
}

// shortcuts are the operator verbs with their own command name.
var shortcuts = map[string]shortcut{
	"replay":   {service: "transform", verb: "replay"},
	"snapshot": {service: "cdc", verb: "snapshot"},
	"flush":    {service: "sink", verb: "flush"},
	"compact":  {service: "sink", verb: "compact"},
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
	if opts.all {
		return r.runAll(ctx, opts)
	}
	return r.runOne(ctx, opts)
}

// parse reads flags placed anywhere on the line and checks the command.
func (r *runner) parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("riachoctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", "", "gRPC address host:port")
	fs.StringVar(&o.service, "service", "", "service name or all")
	fs.StringVar(&o.endpoints, "endpoints", "", "name=host:port,...")
	fs.StringVar(&o.token, "token", "", "Control bearer token")
	fs.StringVar(&o.metricsToken, "metrics-token", "", "metrics API bearer token")
	fs.StringVar(&o.output, "output", outputTable, "table or json")
	fs.BoolVar(&o.json, "json", false, "same as --output json")
	fs.BoolVar(&o.tls, "tls", false, "connect with TLS")
	fs.StringVar(&o.caFile, "ca", "", "PEM CA bundle for --tls")
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
	if err := r.resolveFlags(&o); err != nil {
		return o, err
	}
	if len(pos) == 0 {
		return o, fmt.Errorf("%w: missing command", errUsage)
	}
	o.command, o.args = pos[0], pos[1:]
	if err := checkArgs(&o); err != nil {
		return o, err
	}
	return o, r.checkTarget(&o)
}

// resolveFlags applies the environment defaults and checks the flag values.
func (r *runner) resolveFlags(o *options) error {
	if o.token == "" {
		o.token = r.getenv(TokenEnv)
	}
	if o.metricsToken == "" {
		o.metricsToken = r.getenv(MetricsTokenEnv)
	}
	if o.metricsToken == "" {
		o.metricsToken = o.token
	}
	if o.json {
		o.output = outputJSON
	}
	if o.output != outputTable && o.output != outputJSON {
		return fmt.Errorf("%w: --output must be table or json, got %q", errUsage, o.output)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("%w: --timeout must be positive", errUsage)
	}
	if o.caFile != "" && !o.tls {
		return fmt.Errorf("%w: --ca needs --tls", errUsage)
	}
	list := o.endpoints
	if list == "" {
		list = r.getenv(EndpointsEnv)
	}
	if list != "" {
		eps, err := ParseEndpoints(list)
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		r.endpoints = eps
	}
	return nil
}

// checkTarget resolves --addr / --service (or the command's own service)
// into o.addr, or marks the call as going to every endpoint.
func (r *runner) checkTarget(o *options) error {
	everyone := o.command == "status" || o.command == "health"
	switch {
	case o.addr != "" && o.service != "":
		return fmt.Errorf("%w: give --addr or --service, not both", errUsage)
	case o.addr != "":
		return nil
	case o.service == allServices || (o.service == "" && everyone):
		if !everyone {
			return fmt.Errorf("%w: --service all works only with status and health", errUsage)
		}
		o.all = true
		return nil
	}
	name := o.service
	if name == "" {
		name = defaultService(o.command)
	}
	if name == "" {
		return fmt.Errorf("%w: %s needs --service name or --addr host:port", errUsage, o.command)
	}
	ep, ok := lookupEndpoint(r.endpoints, name)
	if !ok {
		return fmt.Errorf("%w: unknown service %q (known: %s)", errUsage, name, endpointNames(r.endpoints))
	}
	o.service, o.addr = name, ep.Addr
	return nil
}

// defaultService is the service a command goes to without --service.
func defaultService(command string) string {
	if s, ok := shortcuts[command]; ok {
		return s.service
	}
	if command == "metrics" {
		return "metrics"
	}
	return ""
}

// checkArgs validates the command's positional arguments.
func checkArgs(o *options) error {
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
		o.verb = o.args[0]
		_, err := parseKV(o.args[1:])
		return err
	case "metrics":
		_, err := metricsCall(o.args)
		return err
	default:
		s, ok := shortcuts[o.command]
		if !ok {
			return fmt.Errorf("%w: unknown command %q", errUsage, o.command)
		}
		o.verb = s.verb
		_, err := parseKV(o.args)
		return err
	}
	return nil
}

// verbArgs are the key=value arguments of a Control verb.
func verbArgs(o options) (map[string]string, error) {
	if o.command == "command" {
		return parseKV(o.args[1:])
	}
	return parseKV(o.args)
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
