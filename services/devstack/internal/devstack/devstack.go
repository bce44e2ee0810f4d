// Package devstack runs riacho on embedded defaults in one process: kfake as the Kafka-protocol
// broker (with a data directory, so topics survive a restart), the Confluent-compatible schema
// registry, and every service that exists, optionally with a demo traffic generator.
package devstack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/telemetry"
	"github.com/riacho/riacho/services/devstack/internal/demo"
	intake "github.com/riacho/riacho/services/intake/app"

	cdc "github.com/riacho/riacho/services/cdc/app"
	metrics "github.com/riacho/riacho/services/metrics/app"
	quality "github.com/riacho/riacho/services/quality/app"
	sink "github.com/riacho/riacho/services/sink/app"
	transform "github.com/riacho/riacho/services/transform/app"
)

// DemoEnv holds the documented demo secrets devstack falls back to when the real variables
// are not set. They are for local use only.
var DemoEnv = map[string]string{ //nolint:gosec // documented demo values for local use
	"RIACHO_WHATSAPP_APP_SECRET":        "demo-whatsapp-app-secret",
	"RIACHO_WHATSAPP_VERIFY_TOKEN":      "demo-verify-token",
	"RIACHO_META_APP_SECRET":            "demo-meta-app-secret",
	"RIACHO_PLOOMES_VALIDATION_KEY":     "demo-ploomes-validation-key",
	"RIACHO_INTAKE_SOURCE_TOKENS":       "shop:demo-shop-token,planilhas:demo-planilhas-token",
	"RIACHO_INTAKE_SOURCE_HMAC_SECRETS": "shop:demo-shop-hmac-secret",
	"RIACHO_CONTROL_TOKENS":             "operator:demo-control-token",
	"RIACHO_TRANSFORM_MASK_KEY":         "demo-transform-masking-key",
	"RIACHO_METRICS_TOKEN_FINANCE":      "demo-finance-token",
	"RIACHO_METRICS_TOKEN_MARKETING":    "demo-marketing-token",
}

// Options are devstack's command-line settings.
type Options struct {
	DataDir      string
	DemoTraffic  bool
	DemoInterval time.Duration
	KafkaAddr    string
	RegistryAddr string
	IntakeAddr   string
	IntakeCtl    string
	CDCCtl       string
	CDCOps       string
	// Sink runs the sink (the raw zone writer); on by default.
	Sink    bool
	SinkCtl string
	SinkOps string
	// Lake is the sink's lake URL or directory; empty means <DataDir>/lake.
	Lake string
	// CDCConfig is a CDC sources file; when empty, demo traffic captures
	// the demo table in DemoPG if that database is reachable.
	CDCConfig string
	// Transform runs the transform (dbt-style models to staging.*); on by default.
	Transform    bool
	TransformCtl string
	TransformOps string
	// Quality runs the quality gate (suites over staging.* into curated.* and quarantine.*); on by default.
	Quality    bool
	QualityCtl string
	QualityOps string
	// QualitySuites is the suites directory; empty means the demo suites,
	// written to <DataDir>/quality.
	QualitySuites string
	// TransformProject is the transform's project directory; empty means
	// the demo project, written to <DataDir>/transform.
	TransformProject string
	// Metrics runs the metrics service (warehouse loader + MetricsService); on by default.
	Metrics     bool
	MetricsAddr string // MetricsService and Control
	MetricsHTTP string
	MetricsOps  string
	// MetricsDir holds warehouse.yml, models/metrics and access.yml; empty
	// means the demo's, written to <DataDir>/metrics.
	MetricsDir string
	// Warehouse is the metrics warehouse DSN; empty means a DuckDB file in <DataDir>.
	Warehouse string
	// DemoPG is the PostgreSQL database of the demo's CDC table ("off": none).
	DemoPG    string
	LogLevel  string
	PprofAddr string
}

func parseFlags(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.DataDir, "data-dir", ".demo-data", "directory for broker data and the local lake (<data-dir>/lake)")
	fs.BoolVar(&o.DemoTraffic, "demo-traffic", false, "post realistic signed webhooks, events and uploads continuously")
	fs.DurationVar(&o.DemoInterval, "demo-interval", 500*time.Millisecond, "pause between demo traffic rounds")
	fs.StringVar(&o.KafkaAddr, "kafka-addr", "127.0.0.1:9092", "embedded Kafka-protocol broker address")
	fs.StringVar(&o.RegistryAddr, "registry-addr", "127.0.0.1:8081", "embedded schema registry address")
	fs.StringVar(&o.IntakeAddr, "intake-addr", "127.0.0.1:8080", "intake HTTP address")
	fs.StringVar(&o.IntakeCtl, "intake-control-addr", "127.0.0.1:9101", "intake gRPC Control address")
	fs.StringVar(&o.CDCCtl, "cdc-control-addr", "127.0.0.1:9102", "CDC gRPC Control address")
	fs.StringVar(&o.CDCOps, "cdc-ops-addr", "127.0.0.1:9202", "CDC /metrics and probes address")
	fs.BoolVar(&o.Sink, "sink", true, "run the sink, writing every raw.* topic into the lake (--sink=false leaves it out, e.g. for intake benchmarks)")
	fs.StringVar(&o.SinkCtl, "sink-control-addr", "127.0.0.1:9103", "sink gRPC Control address")
	fs.StringVar(&o.SinkOps, "sink-ops-addr", "127.0.0.1:9203", "sink /metrics and probes address")
	fs.StringVar(&o.Lake, "lake", "", "lake the sink writes: a directory or file://, s3://, gs:// URL (default <data-dir>/lake)")
	fs.BoolVar(&o.Transform, "transform", true, "run the transform, the project's SQL models from raw.* to staging.*")
	fs.StringVar(&o.TransformCtl, "transform-control-addr", "127.0.0.1:9104", "transform gRPC Control address")
	fs.StringVar(&o.TransformOps, "transform-ops-addr", "127.0.0.1:9204", "transform /metrics and probes address")
	fs.StringVar(&o.TransformProject, "transform-project", "", "transform project directory (docs/transform.md); default: the demo project, written to <data-dir>/transform")
	fs.BoolVar(&o.Quality, "quality", true, "run the quality gate: expectation suites over staging.* into curated.* and quarantine.*")
	fs.StringVar(&o.QualityCtl, "quality-control-addr", "127.0.0.1:9105", "quality gRPC Control address")
	fs.StringVar(&o.QualityOps, "quality-ops-addr", "127.0.0.1:9205", "quality /metrics and probes address")
	fs.StringVar(&o.QualitySuites, "quality-suites", "", "suites directory (Great Expectations JSON/YAML, dbt schema.yml); default: the demo suites, written to <data-dir>/quality")
	fs.BoolVar(&o.Metrics, "metrics", true, "run the metrics service: curated.* loaded into the warehouse, dbt metrics over gRPC and REST")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "127.0.0.1:9106", "metrics gRPC address: riacho.metrics.v1.MetricsService and Control")
	fs.StringVar(&o.MetricsHTTP, "metrics-http-addr", "127.0.0.1:9306", "metrics REST/JSON address")
	fs.StringVar(&o.MetricsOps, "metrics-ops-addr", "127.0.0.1:9206", "metrics /metrics and probes address")
	fs.StringVar(&o.MetricsDir, "metrics-dir", "", "directory with warehouse.yml, models/metrics and access.yml (docs/metrics.md); default: the demo's, written to <data-dir>/metrics")
	fs.StringVar(&o.Warehouse, "warehouse", "", "metrics warehouse: postgres://… or duckdb://path (default: duckdb://<data-dir>/warehouse.duckdb)")
	fs.StringVar(&o.CDCConfig, "cdc-config", "", "CDC sources file (docs/cdc.md); the CDC runs only when sources are configured or the demo database is reachable")
	fs.StringVar(&o.DemoPG, "demo-pg", demo.DemoPGURL, `PostgreSQL database the demo traffic writes invoices into and the CDC captures ("off" for none)`)
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.PprofAddr, "pprof-addr", "", "serve Go's /debug/pprof on this address (off when empty)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return o, nil
}

// Main parses flags, starts the stack, prints its endpoints and runs until ctx ends.
func Main(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger, err := telemetry.NewLogger(stderr, opts.LogLevel, "json")
	if err != nil {
		return err
	}
	st, err := Start(ctx, opts, environ, logger)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, st.Banner())
	if opts.DemoTraffic && st.transform != nil {
		go st.showStaging(ctx, stdout, DemoStagingModel, 3)
	}
	if opts.DemoTraffic && st.quality != nil {
		go st.showGate(ctx, stdout, DemoStagingModel)
	}
	if opts.DemoTraffic && st.metrics != nil {
		go st.showMetric(ctx, stdout)
	}
	return st.Wait()
}

// Stack is a running devstack.
type Stack struct {
	opts  Options
	env   map[string]string
	log   *slog.Logger
	kafka *kfake.Cluster
	reg   *registry.Registry
	cdc   *cdc.Service
	sink  *sink.Service
	// transform runs the models; transformDir is its project.
	transform    *transform.Service
	transformDir string
	// quality runs the suites; qualityDir holds them.
	quality    *quality.Service
	qualityDir string
	// metrics loads curated.* and answers metrics; metricsDir holds its content.
	metrics    *metrics.Service
	metricsDir string
	// cdcNote says why the CDC is not running, when it is not.
	cdcNote string
	pgDemo  *demo.PGDemo
	group   *errgroup.Group
	cancel  context.CancelFunc
}

// Start brings the stack up and returns once every component is ready.
func Start(ctx context.Context, opts Options, environ []string, logger *slog.Logger) (*Stack, error) {
	env := Env(opts, environ)
	if err := os.MkdirAll(filepath.Join(opts.DataDir, "kafka"), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	kport, err := port(opts.KafkaAddr)
	if err != nil {
		return nil, fmt.Errorf("--kafka-addr: %w", err)
	}
	cluster, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(kport),
		kfake.DataDir(filepath.Join(opts.DataDir, "kafka")),
		kfake.ClusterID("riacho-devstack"),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded Kafka on %s: %w", opts.KafkaAddr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	st := &Stack{opts: opts, env: env, log: logger, kafka: cluster, cancel: cancel}
	g, gctx := errgroup.WithContext(ctx)
	st.group = g

	if opts.PprofAddr != "" {
		if err := servePprof(gctx, g, opts.PprofAddr); err != nil {
			st.abort()
			return nil, err
		}
	}
	if err := st.startRegistry(gctx, g); err != nil {
		st.abort()
		return nil, err
	}
	if err := st.startIntake(gctx, g); err != nil {
		st.abort()
		return nil, err
	}
	if err := waitHTTP(gctx, "http://"+opts.IntakeAddr+"/readyz", 60*time.Second); err != nil {
		st.abort()
		return nil, fmt.Errorf("intake did not become ready: %w", err)
	}
	if opts.Sink {
		if err := st.startSink(gctx, g); err != nil {
			st.abort()
			return nil, err
		}
	}
	if err := st.startCDC(gctx, g); err != nil {
		st.abort()
		return nil, err
	}
	if opts.Transform {
		if err := st.startTransform(gctx, g); err != nil {
			st.abort()
			return nil, err
		}
	}
	if opts.Quality {
		if err := st.startQuality(gctx, g); err != nil {
			st.abort()
			return nil, err
		}
	}
	if opts.Metrics {
		if err := st.startMetrics(gctx, g); err != nil {
			st.abort()
			return nil, err
		}
	}
	if opts.DemoTraffic {
		gen := demo.New(DemoConfig(opts, env), logger)
		g.Go(func() error { gen.Run(gctx); return nil })
	}
	return st, nil
}

func (st *Stack) startRegistry(ctx context.Context, g *errgroup.Group) error {
	cfg := registry.DefaultConfig()
	reg, err := registry.New([]string{st.opts.KafkaAddr}, cfg, st.log, prometheus.NewRegistry())
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := reg.Start(startCtx); err != nil {
		reg.Close()
		return fmt.Errorf("start schema registry: %w", err)
	}
	st.reg = reg
	lis, err := net.Listen("tcp", st.opts.RegistryAddr)
	if err != nil {
		return fmt.Errorf("listen for schema registry on %s: %w", st.opts.RegistryAddr, err)
	}
	srv := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 10 * time.Second}
	g.Go(func() error {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("schema registry: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return nil
}

func (st *Stack) startIntake(ctx context.Context, g *errgroup.Group) error {
	cfg, err := intake.LoadConfig(ctx, envList(st.env))
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "intake", intake.Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("intake telemetry: %w", err)
	}
	svc, err := intake.New(cfg, intake.Deps{
		Logger:         st.log.With("service", "intake"),
		Registry:       tel.Registry,
		TracerProvider: tel.TracerProvider,
		Propagator:     tel.Propagator,
		Version:        intake.Version,
	})
	if err != nil {
		return err
	}
	g.Go(func() error {
		defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
		if err := svc.Run(ctx); err != nil {
			return fmt.Errorf("intake: %w", err)
		}
		return nil
	})
	return nil
}

// Wait blocks until the stack stops (its context ended or a component failed), then closes
// the registry and the broker, upstream before downstream so data drains.
func (st *Stack) Wait() error {
	err := st.group.Wait()
	st.abort()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// Stop ends the stack and waits for it.
func (st *Stack) Stop() error {
	st.cancel()
	return st.Wait()
}

func (st *Stack) abort() {
	st.cancel()
	if st.reg != nil {
		st.reg.Close()
		st.reg = nil
	}
	if st.kafka != nil {
		st.kafka.Close()
		st.kafka = nil
	}
}

// DemoConfig points the demo traffic generator at the stack's intake with its credentials.
func DemoConfig(opts Options, env map[string]string) demo.Config {
	return demo.Config{
		IntakeURL:      "http://" + opts.IntakeAddr,
		WhatsAppSecret: env["RIACHO_WHATSAPP_APP_SECRET"],
		MetaSecret:     env["RIACHO_META_APP_SECRET"],
		PloomesKey:     env["RIACHO_PLOOMES_VALIDATION_KEY"],
		ShopToken:      tokenFor(env["RIACHO_INTAKE_SOURCE_TOKENS"], "shop"),
		PlanilhasToken: tokenFor(env["RIACHO_INTAKE_SOURCE_TOKENS"], "planilhas"),
		Interval:       opts.DemoInterval,
	}
}

// Env is the environment the services see: the process environment over the demo defaults,
// with the embedded endpoints filled in.
func Env(opts Options, environ []string) map[string]string {
	env := maps.Clone(DemoEnv)
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			env[k] = v
		}
	}
	env["RIACHO_KAFKA_BROKERS"] = opts.KafkaAddr
	env["RIACHO_SCHEMA_REGISTRY_URL"] = "http://" + opts.RegistryAddr
	env["RIACHO_INTAKE_ADDR"] = opts.IntakeAddr
	env["RIACHO_CONTROL_ADDR"] = opts.IntakeCtl
	if opts.LogLevel != "" {
		env["RIACHO_LOG_LEVEL"] = opts.LogLevel
	}
	return env
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func tokenFor(pairs, name string) string {
	for _, p := range strings.Split(pairs, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), ":"); ok && k == name {
			return v
		}
	}
	return ""
}

func port(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(p)
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s answered %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
