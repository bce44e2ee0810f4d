// Package app is riacho's metrics service: it loads the curated topics into
// the warehouse exactly once (offsets committed with the rows), and answers
// dbt metric queries over gRPC (riacho.metrics.v1.MetricsService) and its
// REST/JSON face, with access control, an audit trail, an answer cache and
// rollups; plus gRPC Control and /metrics.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/telemetry"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
	"github.com/riacho/riacho/services/metrics/internal/access"
	"github.com/riacho/riacho/services/metrics/internal/api"
	"github.com/riacho/riacho/services/metrics/internal/cache"
	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/query"
	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// Deps are the service's injected dependencies.
type Deps struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Version  string
	// Audit receives the audit lines instead of RIACHO_METRICS_AUDIT_LOG.
	Audit io.Writer
	// Getenv resolves the policy's token_env entries (nil: the process environment).
	Getenv func(string) string
}

// Service is a running metrics service.
type Service struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	schema  *warehouse.Schema
	store   *store.Store
	rc      *avro.Client
	loader  *warehouse.Loader
	api     *api.Server
	policy  *access.Policy
	auditor *access.Auditor
	cache   *cache.Cache

	gwLis    *bufconn.Listener
	gwServer *grpc.Server
	httpLis  net.Listener
	http     *http.Server

	state   *control.State
	control *control.Server
	ctlLis  net.Listener
	opsLis  net.Listener
	ops     *http.Server
	closers []func()

	started, stopping atomic.Bool
}

// New checks the configuration, loads the schema, the metric definitions
// (a broken file is an error naming file, line and field) and the policy,
// opens the warehouse and creates its tables, and binds the listeners.
func New(ctx context.Context, cfg Config, deps Deps) (svc *Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid metrics configuration: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, state: control.NewState()}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.schema, err = warehouse.LoadSchema(cfg.Schema); err != nil {
		return nil, fmt.Errorf("RIACHO_METRICS_SCHEMA: %w", err)
	}
	compiler, err := s.compile()
	if err != nil {
		return nil, err
	}
	if cfg.Policy != "" {
		data, err := os.ReadFile(cfg.Policy)
		if err != nil {
			return nil, fmt.Errorf("RIACHO_METRICS_POLICY: %w", err)
		}
		getenv := deps.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		if s.policy, err = access.ParsePolicy(cfg.Policy, data, getenv); err != nil {
			return nil, fmt.Errorf("RIACHO_METRICS_POLICY: %w", err)
		}
	} else {
		s.policy = access.AllowAll()
		s.log.Warn("metrics API accepts unauthenticated calls and serves every metric", "setting", "RIACHO_METRICS_INSECURE")
	}
	if s.store, err = store.Open(ctx, string(cfg.Warehouse)); err != nil {
		return nil, fmt.Errorf("RIACHO_METRICS_WAREHOUSE: %w", err)
	}
	s.closers = append(s.closers, s.store.Close)
	if err := warehouse.Migrate(ctx, s.store, s.schema); err != nil {
		return nil, fmt.Errorf("warehouse tables: %w", err)
	}
	if cfg.CacheEntries > 0 {
		s.cache = cache.New(cfg.CacheEntries, cfg.CacheBytes, cfg.CacheTTL)
		if err := s.cache.Register(deps.Registry); err != nil {
			return nil, err
		}
	}
	audit, err := s.auditWriter()
	if err != nil {
		return nil, err
	}
	s.auditor = access.NewAuditor(audit)
	s.api, err = api.New(ctx, api.Options{
		Store: s.store, Compiler: compiler, Policy: s.policy, Cache: s.cache,
		Auditor: s.auditor, QueryTimeout: cfg.QueryTimeout,
		Logger: deps.Logger, Registerer: deps.Registry,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Loader {
		if s.rc, err = avro.NewClient(cfg.Registry, nil); err != nil {
			return nil, fmt.Errorf("schema registry client: %w", err)
		}
		s.closers = append(s.closers, s.rc.Close)
		s.loader, err = warehouse.NewLoader(warehouse.LoaderConfig{
			Consumer: cfg.LoaderConsumer, MaxBatchRecords: cfg.LoaderBatch, Linger: cfg.LoaderLinger,
		}, s.store, s.schema, cfg.Kafka, avro.NewSerde(s.rc), deps.Logger, deps.Registry)
		if err != nil {
			return nil, fmt.Errorf("warehouse loader: %w", err)
		}
		s.loader.OnCommit(func(int64, []string) {
			if err := s.api.Refresh(context.Background()); err != nil {
				s.log.Warn("read warehouse freshness", "err", err)
			}
		})
		if err := s.wireLineage(cfg, deps); err != nil {
			return nil, err
		}
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	s.log.Info("metrics loaded", "definitions", cfg.Definitions, "metrics", len(compiler.Metrics()),
		"tables", len(s.schema.Tables), "warehouse", s.store.DSN, "loader", cfg.Loader)
	return s, nil
}

// compile loads the metric definitions and checks them against the schema.
func (s *Service) compile() (*query.Compiler, error) {
	defs, err := metricdef.LoadDir(s.cfg.Definitions)
	if err != nil {
		return nil, fmt.Errorf("RIACHO_METRICS_DEFINITIONS: %w", err)
	}
	c, err := query.NewCompiler(defs, s.schema)
	if err != nil {
		return nil, fmt.Errorf("RIACHO_METRICS_DEFINITIONS: %w", err)
	}
	return c, nil
}

func (s *Service) auditWriter() (io.Writer, error) {
	if s.deps.Audit != nil {
		return s.deps.Audit, nil
	}
	switch s.cfg.AuditLog {
	case "", "stderr":
		return os.Stderr, nil
	case "stdout":
		return os.Stdout, nil
	}
	f, err := os.OpenFile(s.cfg.AuditLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("RIACHO_METRICS_AUDIT_LOG: %w", err)
	}
	s.closers = append(s.closers, func() { _ = f.Close() })
	return f, nil
}

// listen builds the gRPC server: Control (operator tokens) and the
// MetricsService (the access policy) on one port, TLS when configured; the
// REST gateway; and ops.
func (s *Service) listen() (err error) {
	opts := []control.Option{control.WithService(&metricsv1.MetricsService_ServiceDesc, s.api,
		s.policy.UnaryInterceptor(access.AuditFailures(s.auditor)), s.policy.StreamInterceptor(access.AuditFailures(s.auditor)))}
	if s.cfg.TLSCert != "" {
		tlsCfg, err := access.ServerTLS(s.cfg.TLSCert, s.cfg.TLSKey, s.cfg.TLSClientCA, s.cfg.TLSRequireClientCert)
		if err != nil {
			return fmt.Errorf("RIACHO_METRICS_TLS_*: %w", err)
		}
		opts = append(opts, control.WithServerOptions(grpc.Creds(credentials.NewTLS(tlsCfg))))
	}
	s.control, err = control.New(s.cfg.Control, "metrics", s.deps.Version, s.state, control.Hooks{
		Status: s.status, Commands: s.commands(), Reload: s.reload,
	}, s.log, opts...)
	if err != nil {
		return fmt.Errorf("control server: %w", err)
	}
	s.state.Track("rows_loaded", s.rowsLoaded)
	if s.ctlLis, err = net.Listen("tcp", s.cfg.Control.Addr); err != nil {
		return fmt.Errorf("listen on RIACHO_CONTROL_ADDR %s: %w", s.cfg.Control.Addr, err)
	}
	s.closers = append(s.closers, func() { _ = s.ctlLis.Close() })
	if s.cfg.HTTPAddr != "" {
		if err := s.gateway(); err != nil {
			return err
		}
	}
	if s.opsLis, err = net.Listen("tcp", s.cfg.OpsAddr); err != nil {
		return fmt.Errorf("listen on RIACHO_METRICS_OPS_ADDR %s: %w", s.cfg.OpsAddr, err)
	}
	s.closers = append(s.closers, func() { _ = s.opsLis.Close() })
	s.ops = &http.Server{Handler: telemetry.NewOpsMux(s.deps.Registry, s.readiness), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	return nil
}

// gateway serves the REST/JSON face. It calls the MetricsService through
// an in-process connection to a plaintext server of its own (TLS, when on,
// guards the REST listener's network side, not this pipe), with the same
// access control (bearer tokens: the Authorization header is forwarded)
// and audit.
func (s *Service) gateway() (err error) {
	s.gwLis = bufconn.Listen(1 << 20)
	s.gwServer = grpc.NewServer(
		grpc.ChainUnaryInterceptor(s.policy.UnaryInterceptor(access.AuditFailures(s.auditor))),
		grpc.ChainStreamInterceptor(s.policy.StreamInterceptor(access.AuditFailures(s.auditor))))
	s.api.Register(s.gwServer)
	conn, err := grpc.NewClient("passthrough:///metrics-gateway",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.gwLis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("rest gateway: %w", err)
	}
	s.closers = append(s.closers, func() { _ = conn.Close() })
	mux := runtime.NewServeMux()
	if err := metricsv1.RegisterMetricsServiceHandler(context.Background(), mux, conn); err != nil {
		return fmt.Errorf("rest gateway: %w", err)
	}
	if s.httpLis, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listen on RIACHO_METRICS_HTTP_ADDR %s: %w", s.cfg.HTTPAddr, err)
	}
	s.closers = append(s.closers, func() { _ = s.httpLis.Close() })
	s.http = &http.Server{Handler: http.MaxBytesHandler(mux, 1<<20), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if s.cfg.TLSCert != "" {
		// The REST face uses the same certificate; it authenticates with
		// bearer tokens only, so it asks for no client certificate.
		if s.http.TLSConfig, err = access.ServerTLS(s.cfg.TLSCert, s.cfg.TLSKey, "", false); err != nil {
			return fmt.Errorf("RIACHO_METRICS_TLS_*: %w", err)
		}
	}
	return nil
}

func (s *Service) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Addr is the bound gRPC address: MetricsService and Control.
func (s *Service) Addr() string { return s.ctlLis.Addr().String() }

// HTTPAddr is the bound REST address ("" when off).
func (s *Service) HTTPAddr() string {
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}

// OpsAddr is the bound address of /metrics, /healthz and /readyz.
func (s *Service) OpsAddr() string { return s.opsLis.Addr().String() }

// API is the query server.
func (s *Service) API() *api.Server { return s.api }

// Loader is the warehouse loader (nil when RIACHO_METRICS_LOADER=false).
func (s *Service) Loader() *warehouse.Loader { return s.loader }

// Store is the warehouse.
func (s *Service) Store() *store.Store { return s.store }

// Run serves and loads until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.control.Serve(s.ctlLis) })
	if s.http != nil {
		g.Go(func() error {
			if err := s.gwServer.Serve(s.gwLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				return fmt.Errorf("serve rest gateway: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			serve := s.http.Serve
			if s.http.TLSConfig != nil {
				serve = func(l net.Listener) error { return s.http.ServeTLS(l, "", "") }
			}
			if err := serve(s.httpLis); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve rest: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		if err := s.ops.Serve(s.opsLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve ops http: %w", err)
		}
		return nil
	})
	g.Go(func() error { s.api.Watch(gctx, s.cfg.FreshnessPoll); return nil })
	loaderDone := make(chan struct{})
	if s.loader != nil {
		g.Go(func() error { s.rollups(gctx); return nil })
		g.Go(func() error {
			defer close(loaderDone)
			if err := s.loader.Run(gctx); err != nil && gctx.Err() == nil {
				s.state.SetError(err)
				return fmt.Errorf("warehouse loader: %w", err)
			}
			return nil
		})
	} else {
		close(loaderDone)
	}
	s.state.Set(controlv1.State_STATE_RUNNING)
	s.control.Health().SetServingStatus(metricsv1.MetricsService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	s.started.Store(true)
	g.Go(func() error {
		<-gctx.Done()
		s.stopping.Store(true)
		s.state.Set(controlv1.State_STATE_STOPPING)
		<-loaderDone
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		if s.http != nil {
			_ = s.http.Shutdown(sctx)
			s.gwServer.Stop()
		}
		s.control.Shutdown(sctx)
		return s.ops.Shutdown(sctx)
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	return err
}

// rollups rebuilds the declared rollups when the warehouse moved, at most every RollupInterval.
func (s *Service) rollups(ctx context.Context) {
	if len(s.schema.Rollups) == 0 {
		return
	}
	names := make([]string, len(s.schema.Rollups))
	for i, r := range s.schema.Rollups {
		names[i] = r.Name
	}
	built := int64(-1)
	t := time.NewTicker(s.cfg.RollupInterval)
	defer t.Stop()
	for {
		if gen := s.api.Generation(); gen != built {
			if err := s.api.RefreshRollups(ctx, names); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("rebuild rollups", "err", err)
			} else {
				built = gen
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) readiness() error {
	switch {
	case s.stopping.Load():
		return errors.New("shutting down")
	case !s.started.Load():
		return errors.New("not started yet")
	}
	pctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(pctx); err != nil {
		return fmt.Errorf("warehouse: %w", err)
	}
	return nil
}

// reload re-reads the metric definitions (the schema and policy need a restart).
func (s *Service) reload(context.Context) (string, error) {
	c, err := s.compile()
	if err != nil {
		return "", fmt.Errorf("%w: %w", control.ErrInvalidArgument, err)
	}
	s.api.SetCompiler(c)
	s.log.Info("metric definitions reloaded", "metrics", len(c.Metrics()))
	return fmt.Sprintf("%d metric definitions reloaded from %s", len(c.Metrics()), s.cfg.Definitions), nil
}
