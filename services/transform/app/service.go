// Package app is riacho's transform service: it loads a dbt-style project
// and runs its models continuously from the raw topics to staging.<model>,
// exactly once, with gRPC Control verbs to list, inspect, pause, resume and
// replay models.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/telemetry"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/transform/internal/engine"
	"github.com/riacho/riacho/services/transform/internal/project"
)

// Deps are the service's injected dependencies.
type Deps struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Version  string
}

// Service is a running transform: the engine, Control and the ops endpoints.
type Service struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	proj *project.Project
	rc   *avro.Client
	eng  *engine.Engine

	lineage *lineage.Emitter
	windows map[string]*lineage.Window // by model; nil when lineage is off

	state   *control.State
	control *control.Server
	ctlLis  net.Listener
	opsLis  net.Listener
	ops     *http.Server

	started  atomic.Bool
	stopping atomic.Bool
}

// New checks the configuration, loads the project (a broken model is an
// error naming its file and line), builds the engine and binds the
// listeners; Run starts the models.
func New(ctx context.Context, cfg Config, deps Deps) (svc *Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid transform configuration: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, state: control.NewState()}
	opts, err := cfg.ProjectOptions()
	if err != nil {
		return nil, err
	}
	if s.proj, err = project.Load(cfg.Project, opts); err != nil {
		return nil, fmt.Errorf("load project RIACHO_TRANSFORM_PROJECT %s: %w", cfg.Project, err)
	}
	ec, err := cfg.EngineConfig()
	if err != nil {
		return nil, err
	}
	if s.rc, err = avro.NewClient(cfg.Registry, nil); err != nil {
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	var closers []func()
	closers = append(closers, s.rc.Close)
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	if s.lineage, err = newLineage(cfg, deps); err != nil {
		return nil, err
	}
	closers = append(closers, s.closeLineage)
	ed := engine.Deps{Kafka: cfg.Kafka, Registry: s.rc, Logger: deps.Logger, Registerer: deps.Registry}
	if s.lineage != nil {
		ed.OnBatch, ed.OnFailure = s.lineageBatch, s.lineageFailure
	}
	s.eng, err = engine.New(ec, ed, s.proj)
	if err != nil {
		return nil, err
	}
	s.windows = modelWindows(s.lineage, cfg.Kafka.Brokers, s.eng.Models())
	s.control, err = control.New(cfg.Control, "transform", deps.Version, s.state, control.Hooks{
		Pause: func(_ context.Context, reason string) error {
			s.log.Warn("every model paused", "reason", reason)
			return s.eng.Pause("")
		},
		Resume:   func(context.Context) error { s.log.Info("every model resumed"); return s.eng.Resume("") },
		Status:   s.status,
		Commands: s.commands(),
	}, deps.Logger)
	if err != nil {
		return nil, fmt.Errorf("control server: %w", err)
	}
	s.state.Track("records_in", func() uint64 { return s.totals(func(m engine.ModelStatus) int64 { return m.In }) })
	s.state.Track("records_out", func() uint64 { return s.totals(func(m engine.ModelStatus) int64 { return m.Out }) })
	if s.ctlLis, err = net.Listen("tcp", cfg.Control.Addr); err != nil {
		return nil, fmt.Errorf("listen on RIACHO_CONTROL_ADDR %s: %w", cfg.Control.Addr, err)
	}
	closers = append(closers, func() { _ = s.ctlLis.Close() })
	if s.opsLis, err = net.Listen("tcp", cfg.OpsAddr); err != nil {
		return nil, fmt.Errorf("listen on RIACHO_TRANSFORM_OPS_ADDR %s: %w", cfg.OpsAddr, err)
	}
	s.ops = &http.Server{
		Handler:           telemetry.NewOpsMux(deps.Registry, s.readiness),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn),
	}
	names := make([]string, 0, len(s.proj.Order))
	for _, m := range s.eng.Models() {
		names = append(names, m.Name)
	}
	s.log.Info("project loaded", "dir", cfg.Project, "models", names, "masking", ec.Masking)
	return s, nil
}

// ControlAddr is the bound gRPC Control address.
func (s *Service) ControlAddr() string { return s.ctlLis.Addr().String() }

// OpsAddr is the bound address of /metrics, /healthz and /readyz.
func (s *Service) OpsAddr() string { return s.opsLis.Addr().String() }

// Engine is the running engine.
func (s *Service) Engine() *engine.Engine { return s.eng }

// Run runs the models until ctx ends, then stops Control and the ops
// endpoints. Batches in flight commit or abort as a whole.
func (s *Service) Run(ctx context.Context) error {
	defer s.rc.Close()
	defer s.closeLineage()
	s.state.Set(controlv1.State_STATE_STARTING)
	g, gctx := errgroup.WithContext(ctx)
	engineDone := make(chan struct{})
	g.Go(func() error { return s.control.Serve(s.ctlLis) })
	g.Go(func() error {
		if err := s.ops.Serve(s.opsLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve ops http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		defer close(engineDone)
		s.state.Set(controlv1.State_STATE_RUNNING)
		s.started.Store(true)
		if err := s.eng.Run(gctx); err != nil {
			s.state.SetError(err)
			return fmt.Errorf("transform engine: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		s.stopping.Store(true)
		s.state.Set(controlv1.State_STATE_STOPPING)
		<-engineDone
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		s.control.Shutdown(sctx)
		return s.ops.Shutdown(sctx)
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	return err
}

func (s *Service) readiness() error {
	switch {
	case s.stopping.Load():
		return errors.New("shutting down")
	case !s.started.Load():
		return errors.New("not started yet")
	}
	return nil
}

func (s *Service) status(ctx context.Context, resp *controlv1.StatusResponse) {
	if resp.Details == nil {
		resp.Details = map[string]string{}
	}
	d := resp.Details
	d["ops_addr"] = s.OpsAddr()
	d["project"] = s.cfg.Project
	d["models"] = strconv.Itoa(len(s.eng.Models()))
	d["dlq_topic"] = s.cfg.DLQTopic
	for _, st := range s.eng.Status(ctx, true) {
		p := "model." + st.Name + "."
		d[p+"state"] = st.State
		d[p+"paused"] = strconv.FormatBool(st.Paused)
		d[p+"records_in"] = strconv.FormatInt(st.In, 10)
		d[p+"records_out"] = strconv.FormatInt(st.Out, 10)
		d[p+"duplicates_dropped"] = strconv.FormatInt(st.Duplicates, 10)
		d[p+"dead_letters"] = strconv.FormatInt(st.DeadLetters, 10)
		if st.LastError != "" {
			d[p+"last_error"] = st.LastError
		}
		for _, l := range st.Lag {
			resp.Lag = append(resp.Lag, &controlv1.Lag{Group: s.cfg.GroupPrefix + "." + st.Name, Topic: l.Topic, Partition: l.Partition, Records: max(l.Lag, 0)})
		}
	}
}

// totals sums one counter over every model (lag left out: it needs Kafka).
func (s *Service) totals(of func(engine.ModelStatus) int64) uint64 {
	var n int64
	for _, m := range s.eng.Status(context.Background(), false) {
		n += of(m)
	}
	return uint64(max(n, 0))
}
