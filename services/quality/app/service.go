// Package app is riacho's quality service: it loads Great Expectations
// suites and dbt schema tests, gates every staging model's records into
// curated.<model> or quarantine.<model> exactly once, publishes window
// validation results to quality.results, watches the sources' freshness
// SLAs, sends alerts to Slack and Teams, and answers gRPC Control.
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
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/telemetry"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/quality/internal/alert"
	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/freshness"
	"github.com/riacho/riacho/services/quality/internal/gate"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

// Deps are the service's injected dependencies.
type Deps struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Version  string
	// HTTPClient posts the alerts (nil: the notifier's own).
	HTTPClient *http.Client
}

// Service is a running quality service.
type Service struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	suites []*suite.Suite
	rc     *avro.Client
	gate   *gate.Gate
	notify *alert.Notifier
	fresh  *freshness.Tracker

	lineage *lineage.Emitter
	windows map[string]*lineage.Window // by model; nil when lineage is off

	state   *control.State
	control *control.Server
	ctlLis  net.Listener
	opsLis  net.Listener
	ops     *http.Server

	started, stopping atomic.Bool
}

// New checks the configuration, loads the suites (a broken suite is an
// error naming its file, line and expectation), and binds the listeners.
func New(ctx context.Context, cfg Config, deps Deps) (svc *Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid quality configuration: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, state: control.NewState()}
	loaded, err := suite.LoadDir(cfg.Suites)
	if err != nil {
		return nil, fmt.Errorf("load suites RIACHO_QUALITY_SUITES %s: %w", cfg.Suites, err)
	}
	for i := range loaded {
		s.suites = append(s.suites, &loaded[i])
	}
	if s.fresh, err = freshness.New(freshness.Options{Registerer: deps.Registry}); err != nil {
		return nil, err
	}
	if routes := cfg.Routes(); len(routes) > 0 {
		if s.notify, err = alert.New(routes, alert.Options{HTTPClient: deps.HTTPClient, Logger: deps.Logger, Registerer: deps.Registry}); err != nil {
			return nil, fmt.Errorf("alert routes: %w", err)
		}
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
	gd := gate.Deps{
		Kafka: cfg.Kafka, Registry: s.rc, Logger: deps.Logger, Registerer: deps.Registry,
		OnResult: s.onResult, OnError: s.onError,
	}
	if s.lineage != nil {
		gd.OnCommit, gd.OnError = s.lineageCommit, s.onGateError
	}
	s.gate, err = gate.New(cfg.GateConfig(), gd, s.suites)
	if err != nil {
		return nil, err
	}
	s.windows = modelWindows(s.lineage, cfg.Kafka.Brokers, s.gate.Status())
	s.control, err = control.New(cfg.Control, "quality", deps.Version, s.state, control.Hooks{
		Status: s.status, Commands: s.commands(),
	}, deps.Logger)
	if err != nil {
		return nil, fmt.Errorf("control server: %w", err)
	}
	s.state.Track("records_curated", func() uint64 { return s.totals(func(m gate.ModelStatus) int64 { return m.Curated }) })
	s.state.Track("records_quarantined", func() uint64 { return s.totals(func(m gate.ModelStatus) int64 { return m.Quarantined }) })
	if s.ctlLis, err = net.Listen("tcp", cfg.Control.Addr); err != nil {
		return nil, fmt.Errorf("listen on RIACHO_CONTROL_ADDR %s: %w", cfg.Control.Addr, err)
	}
	closers = append(closers, func() { _ = s.ctlLis.Close() })
	if s.opsLis, err = net.Listen("tcp", cfg.OpsAddr); err != nil {
		return nil, fmt.Errorf("listen on RIACHO_QUALITY_OPS_ADDR %s: %w", cfg.OpsAddr, err)
	}
	s.ops = &http.Server{Handler: telemetry.NewOpsMux(deps.Registry, s.readiness), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn)}
	s.log.Info("suites loaded", "dir", cfg.Suites, "suites", len(s.suites), "alert_routes", len(cfg.Routes()))
	return s, nil
}

// ControlAddr is the bound gRPC Control address.
func (s *Service) ControlAddr() string { return s.ctlLis.Addr().String() }

// OpsAddr is the bound address of /metrics, /healthz and /readyz.
func (s *Service) OpsAddr() string { return s.opsLis.Addr().String() }

// Gate is the running gate.
func (s *Service) Gate() *gate.Gate { return s.gate }

// Run runs the gate, the freshness watch and the alert sender until ctx
// ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.rc.Close()
	defer s.closeLineage()
	g, gctx := errgroup.WithContext(ctx)
	gateDone := make(chan struct{})
	g.Go(func() error { return s.control.Serve(s.ctlLis) })
	g.Go(func() error {
		if err := s.ops.Serve(s.opsLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve ops http: %w", err)
		}
		return nil
	})
	if s.notify != nil {
		g.Go(func() error {
			if err := s.notify.Run(gctx); err != nil && !errors.Is(err, alert.ErrDrainTimeout) {
				return fmt.Errorf("alerts: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error { s.watchFreshness(gctx); return nil })
	g.Go(func() error {
		defer close(gateDone)
		s.state.Set(controlv1.State_STATE_RUNNING)
		s.started.Store(true)
		if err := s.gate.Run(gctx); err != nil {
			s.state.SetError(err)
			return fmt.Errorf("quality gate: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		s.stopping.Store(true)
		s.state.Set(controlv1.State_STATE_STOPPING)
		<-gateDone
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

// send queues an alert; without routes it is only logged.
func (s *Service) send(a alert.Alert) {
	s.log.Warn("alert", "kind", a.Kind, "severity", a.Severity, "title", a.Title)
	if s.notify == nil {
		return
	}
	if err := s.notify.Send(context.Background(), a); err != nil && !errors.Is(err, alert.ErrNoRoute) {
		s.log.Error("alert not queued", "title", a.Title, "error", err)
	}
}

// onResult alerts the data stewards when a window's suite fails.
func (s *Service) onResult(model, suiteName string, r expect.SuiteResult) {
	if r.Success {
		return
	}
	fields := map[string]string{"model": model, "suite": suiteName,
		"failed": strconv.Itoa(r.Statistics.UnsuccessfulExpectations) + " of " + strconv.Itoa(r.Statistics.EvaluatedExpectations)}
	for _, res := range r.Results {
		if !res.Success {
			fields["expectation."+res.ExpectationConfig.Type] = fmt.Sprintf("unexpected %d", res.Result.UnexpectedCount)
		}
	}
	s.send(alert.Alert{Severity: alert.SeverityWarning, Kind: alert.KindQuality, Key: "quality/" + model + "/" + suiteName,
		Title: "Data quality: suite " + suiteName + " failed on " + model, Text: "A window of staging." + model + " failed its expectations; failing records are in quarantine." + model + ".", Fields: fields})
}

// onError alerts the critical channel when a model's gate loop fails.
func (s *Service) onError(model string, err error) {
	s.send(alert.Alert{Severity: alert.SeverityCritical, Kind: alert.KindPipeline, Key: "pipeline/quality/" + model,
		Title: "Pipeline failure: quality gate of " + model, Text: err.Error(), Fields: map[string]string{"model": model, "service": "quality"}})
}

func (s *Service) status(_ context.Context, resp *controlv1.StatusResponse) {
	if resp.Details == nil {
		resp.Details = map[string]string{}
	}
	d := resp.Details
	d["ops_addr"] = s.OpsAddr()
	d["suites"] = strconv.Itoa(len(s.suites))
	for _, st := range s.gate.Status() {
		p := "model." + st.Model + "."
		d[p+"state"] = st.State
		d[p+"records_curated"] = strconv.FormatInt(st.Curated, 10)
		d[p+"records_quarantined"] = strconv.FormatInt(st.Quarantined, 10)
		d[p+"window_results"] = strconv.FormatInt(st.Results, 10)
		if st.LastError != "" {
			d[p+"last_error"] = st.LastError
		}
	}
	for _, src := range s.fresh.Breached() {
		d["freshness_breached."+src] = "true"
	}
	for _, r := range s.fresh.Readings(time.Now()) {
		f := &controlv1.Freshness{Scope: "source", Name: r.Source, Age: durationpb.New(r.Age), Breached: r.Breached}
		if !r.Newest.IsZero() {
			f.Newest = timestamppb.New(r.Newest)
		}
		if r.SLA > 0 {
			f.Sla = durationpb.New(r.SLA)
		}
		resp.Freshness = append(resp.Freshness, f)
	}
}

// totals sums one counter over every gated model.
func (s *Service) totals(of func(gate.ModelStatus) int64) uint64 {
	var n int64
	for _, m := range s.gate.Status() {
		n += of(m)
	}
	return uint64(max(n, 0))
}
