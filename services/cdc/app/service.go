// Package app is riacho's change data capture service: it captures
// PostgreSQL databases from their write-ahead log (logical replication with
// pgoutput) and systems without a log (SAP Business One Service Layer,
// Ploomes, SQL tables) by cursor, and writes every change in the Debezium
// envelope to raw.<source>.<schema>.<table>. A source's position (the
// replication slot's confirmed LSN, or its cursor) only moves after Kafka
// acknowledged every change before it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/telemetry"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

// Deps are the service's injected dependencies.
type Deps struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Version  string
	// Getenv resolves the sources file's environment references; os.Getenv when nil.
	Getenv func(string) string
}

// capture is one running source: log-based or cursor-based.
type capture interface {
	Run(ctx context.Context) error
	Pause()
	Resume()
	// Details are facts for Control Status, keyed without the source prefix.
	Details() map[string]string
	// Snapshot asks for an on-demand snapshot of one table.
	Snapshot(ctx context.Context, table string) error
}

// Service is a running CDC: one capture per source, a shared producer,
// Control and the ops HTTP endpoints.
type Service struct {
	cfg     Config
	sources []Source
	deps    Deps
	log     *slog.Logger

	producer *kafka.Producer
	emitter  *emit.Emitter
	state    *control.State
	control  *control.Server
	ctlLis   net.Listener
	opsLis   net.Listener
	ops      *http.Server

	mu       sync.Mutex
	captures map[string]capture
	errs     map[string]string

	ready    atomic.Bool
	stopping atomic.Bool
	paused   atomic.Bool
}

// New checks the configuration, builds the service and binds its listeners; Run starts it.
func New(cfg Config, sources []Source, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid cdc configuration: %w", err)
	}
	if len(sources) == 0 {
		return nil, errors.New("invalid cdc configuration: no sources (set RIACHO_CDC_CONFIG to a sources file)")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Service{
		cfg: cfg, sources: sources, deps: deps, log: deps.Logger,
		state:    control.NewState(),
		captures: map[string]capture{},
		errs:     map[string]string{},
	}
	var err error
	s.producer, err = kafka.NewProducer(cfg.Kafka, kafka.ProducerOptions{
		Telemetry:          kafka.Telemetry{Logger: deps.Logger, Registerer: deps.Registry},
		Linger:             5 * time.Millisecond,
		MaxBufferedRecords: 100_000,
	})
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	rc, err := avro.NewClient(cfg.Registry, nil)
	if err != nil {
		s.producer.Close()
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	s.emitter = emit.New(s.producer, avro.NewSerde(rc), emit.Options{
		Partitions: cfg.TopicPartitions, Replication: cfg.TopicReplication,
		DLQTopic: cfg.DLQTopic, Registerer: deps.Registry, Logger: deps.Logger,
	})
	s.control, err = control.New(cfg.Control, "cdc", deps.Version, s.state, control.Hooks{
		Pause:  s.pause,
		Resume: s.resume,
		Status: s.status,
		Commands: map[string]control.CommandFunc{
			"snapshot": s.snapshotCommand,
		},
	}, deps.Logger)
	if err != nil {
		s.producer.Close()
		return nil, fmt.Errorf("control server: %w", err)
	}
	s.state.Track("changes_produced", s.emitter.Produced)
	if s.ctlLis, err = net.Listen("tcp", cfg.Control.Addr); err != nil {
		s.producer.Close()
		return nil, fmt.Errorf("listen on RIACHO_CONTROL_ADDR %s: %w", cfg.Control.Addr, err)
	}
	if s.opsLis, err = net.Listen("tcp", cfg.OpsAddr); err != nil {
		s.ctlLis.Close()
		s.producer.Close()
		return nil, fmt.Errorf("listen on RIACHO_CDC_OPS_ADDR %s: %w", cfg.OpsAddr, err)
	}
	s.ops = &http.Server{
		Handler:           telemetry.NewOpsMux(deps.Registry, s.readiness),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// ControlAddr is the bound gRPC Control address.
func (s *Service) ControlAddr() string { return s.ctlLis.Addr().String() }

// OpsAddr is the bound address of /metrics, /healthz and /readyz.
func (s *Service) OpsAddr() string { return s.opsLis.Addr().String() }

// Run opens the state store, starts every source and keeps each running
// (a failed source is restarted with backoff and reported; the others go
// on) until ctx ends; then it flushes what was produced.
func (s *Service) Run(ctx context.Context) error {
	defer s.producer.Close()
	s.state.Set(controlv1.State_STATE_STARTING)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.control.Serve(s.ctlLis) })
	g.Go(func() error {
		if err := s.ops.Serve(s.opsLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve ops http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		s.stopping.Store(true)
		s.state.Set(controlv1.State_STATE_STOPPING)
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		s.control.Shutdown(sctx)
		return s.ops.Shutdown(sctx)
	})
	g.Go(func() error { return s.runSources(gctx) })
	err := g.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if ferr := s.producer.Flush(sctx); ferr != nil && err == nil {
		err = fmt.Errorf("flush producer: %w", ferr)
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	return err
}

// runSources opens the state store (waiting for Kafka), then supervises one
// goroutine per source.
func (s *Service) runSources(ctx context.Context) error {
	var st *state.Store
	backoff := 250 * time.Millisecond
	for {
		var err error
		st, err = state.Open(ctx, s.cfg.Kafka, s.cfg.StateTopic, s.log)
		if err == nil {
			break
		}
		s.state.SetError(err)
		s.log.Warn("opening the state store failed; retrying", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	defer st.Close()
	var wg sync.WaitGroup
	for i := range s.sources {
		src := &s.sources[i]
		c, err := s.newCapture(src, st)
		if err != nil {
			// A source that cannot even be built is reported, the others run.
			s.setSourceError(src.Name, err)
			s.log.Error("source not started", "source", src.Name, "where", src.Where(), "error", err)
			continue
		}
		s.mu.Lock()
		s.captures[src.Name] = c
		s.mu.Unlock()
		if s.paused.Load() {
			c.Pause()
		}
		wg.Go(func() { s.supervise(ctx, src, c) })
	}
	s.ready.Store(true)
	s.state.Set(controlv1.State_STATE_RUNNING)
	s.log.Info("cdc running", "sources", len(s.sources), "control", s.ControlAddr(), "ops", s.OpsAddr())
	wg.Wait()
	return nil
}

// supervise runs c until ctx ends, restarting it with backoff when it fails.
func (s *Service) supervise(ctx context.Context, src *Source, c capture) {
	backoff := s.cfg.RestartBackoff
	for {
		started := time.Now()
		err := c.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped without an error")
		}
		s.setSourceError(src.Name, err)
		s.log.Error("source failed; restarting", "source", src.Name, "kind", src.Kind(), "error", err, "in", backoff)
		if time.Since(started) > time.Minute {
			backoff = s.cfg.RestartBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// getenv resolves the sources file's environment references.
func (s *Service) getenv(k string) string {
	if k == "" {
		return ""
	}
	if s.deps.Getenv != nil {
		return s.deps.Getenv(k)
	}
	return os.Getenv(k)
}

func (s *Service) setSourceError(name string, err error) {
	s.state.SetError(fmt.Errorf("source %s: %w", name, err))
	s.mu.Lock()
	s.errs[name] = err.Error()
	s.mu.Unlock()
}

func (s *Service) readiness() error {
	switch {
	case s.stopping.Load():
		return errors.New("shutting down")
	case !s.ready.Load():
		return errors.New("state store not loaded yet")
	}
	return nil
}

func (s *Service) each(fn func(capture)) {
	s.mu.Lock()
	cs := slices.Collect(maps.Values(s.captures))
	s.mu.Unlock()
	for _, c := range cs {
		fn(c)
	}
}

func (s *Service) pause(_ context.Context, reason string) error {
	s.paused.Store(true)
	s.each(capture.Pause)
	s.log.Warn("cdc paused: sources stop reading (replication slots keep their position)", "reason", reason)
	return nil
}

func (s *Service) resume(context.Context) error {
	s.paused.Store(false)
	s.each(capture.Resume)
	s.log.Info("cdc resumed")
	return nil
}

func (s *Service) status(_ context.Context, st *controlv1.StatusResponse) {
	if st.Details == nil {
		st.Details = map[string]string{}
	}
	st.Details["ops_addr"] = s.OpsAddr()
	st.Details["paused"] = fmt.Sprint(s.paused.Load())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, src := range s.sources {
		prefix := "source." + src.Name + "."
		st.Details[prefix+"kind"] = src.Kind()
		if e := s.errs[src.Name]; e != "" {
			st.Details[prefix+"last_error"] = e
		}
		if c := s.captures[src.Name]; c != nil {
			for k, v := range c.Details() {
				st.Details[prefix+k] = v
			}
		}
	}
}

// snapshotCommand runs the "snapshot" verb: args source and table
// ("schema.table" for PostgreSQL, the entity for cursor sources).
func (s *Service) snapshotCommand(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	name, table := args["source"], args["table"]
	if table == "" {
		return nil, fmt.Errorf("%w: snapshot needs table=<schema.table> (and source=<name> when there are several)", control.ErrInvalidArgument)
	}
	if name == "" && len(s.sources) == 1 {
		name = s.sources[0].Name
	}
	s.mu.Lock()
	c := s.captures[name]
	s.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("%w: no running source %q", control.ErrNotFound, name)
	}
	if err := c.Snapshot(ctx, table); err != nil {
		return nil, err
	}
	return &controlv1.CommandResponse{
		Output: fmt.Sprintf("snapshot of %s in source %s started", table, name),
		Result: map[string]string{"source": name, "table": table},
	}, nil
}
