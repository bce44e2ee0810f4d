// Package app is riacho's webhook intake service: it authenticates webhooks, events and
// spreadsheet uploads, turns them into Avro records on raw.* topics, and answers 2xx only after
// Kafka acknowledged every record of the request.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/telemetry"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/intake/internal/webhook"
)

// Deps are the intake's injected dependencies.
type Deps struct {
	Logger         *slog.Logger
	Registry       *prometheus.Registry
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	Version        string
}

// Service is a running intake: HTTP interface, Kafka producer, schema encoders and Control.
type Service struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	tracer  trace.Tracer
	prop    propagation.TextMapPropagator
	// spansOff is set when the tracer provider records nothing (no exporter configured).
	spansOff bool
	// propHeaders are the request headers prop extracts from (traceparent, ...).
	propHeaders []string
	producer    *kafka.Producer
	admin       *kgo.Client
	topics      *topics
	state       *control.State
	control     *control.Server
	lis         net.Listener
	ctlLis      net.Listener
	http        *http.Server

	// deadlines bounds the wait for acknowledgements; baseCancel ends them at shutdown.
	deadlines  *produceDeadlines
	baseCancel context.CancelFunc

	requestsRate *control.RateCounter
	eventsRate   *control.RateCounter

	paused   atomic.Bool
	stopping atomic.Bool
	prepared atomic.Bool
}

// New builds the service and binds its HTTP listener; Run starts serving.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid intake configuration: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.TracerProvider == nil {
		deps.TracerProvider = noop.NewTracerProvider()
	}
	if deps.Propagator == nil {
		deps.Propagator = propagation.TraceContext{}
	}
	m, err := newMetrics(deps.Registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	s := &Service{
		cfg:     cfg,
		log:     deps.Logger,
		metrics: m,
		tracer:  deps.TracerProvider.Tracer("github.com/riacho/riacho/services/intake"),
		prop:    deps.Propagator,
		state:   control.NewState(),
	}
	var base context.Context
	base, s.baseCancel = context.WithCancel(context.Background())
	s.deadlines = newProduceDeadlines(base, cfg.ProduceTimeout)
	_, s.spansOff = deps.TracerProvider.(noop.TracerProvider)
	s.propHeaders = canonicalKeys(deps.Propagator)
	s.requestsRate = s.state.Counter("requests")
	s.eventsRate = s.state.Counter("events_produced")

	s.producer, err = kafka.NewProducer(cfg.Kafka, kafka.ProducerOptions{
		Telemetry: kafka.Telemetry{Logger: deps.Logger, Registerer: deps.Registry},
		Linger:    cfg.ProduceLinger,
	})
	if err != nil {
		s.baseCancel()
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	s.admin, err = kafka.NewClient(cfg.Kafka)
	if err != nil {
		s.closeKafka()
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	rc, err := avro.NewClient(cfg.Registry, nil)
	if err != nil {
		s.closeKafka()
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	s.topics = newTopics(func(ctx context.Context, specs ...kafka.TopicSpec) error {
		return kafka.EnsureTopics(ctx, s.admin, specs...)
	}, avro.NewSerde(rc), cfg.TopicPartitions, cfg.TopicReplication)

	s.control, err = control.New(cfg.Control, "intake", deps.Version, s.state, control.Hooks{
		Pause:  s.pause,
		Resume: s.resume,
		Status: s.status,
	}, deps.Logger)
	if err != nil {
		s.closeKafka()
		return nil, fmt.Errorf("control server: %w", err)
	}
	s.ctlLis, err = net.Listen("tcp", cfg.Control.Addr)
	if err != nil {
		s.closeKafka()
		return nil, fmt.Errorf("listen on RIACHO_CONTROL_ADDR %s: %w", cfg.Control.Addr, err)
	}
	s.lis, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.ctlLis.Close()
		s.closeKafka()
		return nil, fmt.Errorf("listen on RIACHO_INTAKE_ADDR %s: %w", cfg.Addr, err)
	}
	s.http = &http.Server{
		Handler:           s.routes(telemetry.NewOpsMux(deps.Registry, s.ready)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the bound HTTP address.
func (s *Service) Addr() string { return s.lis.Addr().String() }

// ControlAddr is the bound gRPC Control address.
func (s *Service) ControlAddr() string { return s.ctlLis.Addr().String() }

// Handler is the service's full HTTP interface (webhooks, uploads, /metrics, probes).
func (s *Service) Handler() http.Handler { return s.http.Handler }

// Run prepares topics and schemas, serves until ctx ends, then drains: it stops accepting,
// lets in-flight requests finish (each waits for its acks), flushes and closes the producer.
func (s *Service) Run(ctx context.Context) error {
	defer s.closeKafka()
	s.state.Set(controlv1.State_STATE_STARTING)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.control.Serve(s.ctlLis) })
	g.Go(func() error {
		if err := s.prepare(gctx); err != nil {
			return err
		}
		s.prepared.Store(true)
		s.state.Set(controlv1.State_STATE_RUNNING)
		s.log.Info("intake ready", "addr", s.Addr(), "control", s.ControlAddr())
		return nil
	})
	g.Go(func() error {
		err := s.http.Serve(s.lis)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve http: %w", err)
	})
	g.Go(func() error {
		<-gctx.Done()
		s.stopping.Store(true)
		s.state.Set(controlv1.State_STATE_STOPPING)
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		defer s.control.Shutdown(sctx)
		if err := s.http.Shutdown(sctx); err != nil {
			return fmt.Errorf("drain http: %w", err)
		}
		if err := s.producer.Flush(sctx); err != nil {
			return fmt.Errorf("flush producer: %w", err)
		}
		return nil
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	return err
}

// prepare creates the fixed topics and registers their schemas, retrying while Kafka or the
// registry are not reachable yet.
func (s *Service) prepare(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	for {
		err := s.topics.prepare(ctx, webhook.KnownTopics())
		if err == nil {
			return nil
		}
		s.state.SetError(err)
		s.log.Warn("preparing topics and schemas failed; retrying", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("prepare topics: %w", errors.Join(ctx.Err(), err))
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Service) ready() error {
	switch {
	case s.stopping.Load():
		return errors.New("shutting down")
	case !s.prepared.Load():
		return errors.New("topics and schemas not prepared yet")
	}
	return nil
}

func (s *Service) closeKafka() {
	s.baseCancel()
	if s.producer != nil {
		s.producer.Close()
	}
	if s.admin != nil {
		s.admin.Close()
	}
}

func (s *Service) pause(_ context.Context, reason string) error {
	s.paused.Store(true)
	s.state.Set(controlv1.State_STATE_PAUSED)
	s.log.Warn("intake paused: answering 503", "reason", reason)
	return nil
}

func (s *Service) resume(context.Context) error {
	s.paused.Store(false)
	s.state.Set(controlv1.State_STATE_RUNNING)
	s.log.Info("intake resumed")
	return nil
}

func (s *Service) status(_ context.Context, st *controlv1.StatusResponse) {
	if st.Details == nil {
		st.Details = map[string]string{}
	}
	st.Details["http_addr"] = s.Addr()
	st.Details["paused"] = fmt.Sprint(s.paused.Load())
}

// startSpan starts the request's span as a child of the caller's traceparent, if any. When
// spans are not recorded (no exporter) and the request carries none of the propagator's
// headers, there is nothing to record or pass on: it returns the request's context as is.
func (s *Service) startSpan(r *http.Request, source string) (context.Context, trace.Span) {
	if s.spansOff && !hasAnyHeader(r.Header, s.propHeaders) {
		return r.Context(), noSpan
	}
	ctx := s.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	return s.tracer.Start(ctx, "intake "+source, serverSpan...)
}

// noSpan is the span of requests that are not traced: every method does nothing.
var noSpan = trace.SpanFromContext(context.Background())

// hasAnyHeader reports whether h has a value for one of the canonical keys.
func hasAnyHeader(h http.Header, keys []string) bool {
	for _, k := range keys {
		if len(h[k]) > 0 {
			return true
		}
	}
	return false
}

// canonicalKeys returns the header keys the propagator reads, in canonical form.
func canonicalKeys(prop propagation.TextMapPropagator) []string {
	fields := prop.Fields()
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = http.CanonicalHeaderKey(f)
	}
	return keys
}

// serverSpan are the start options of request spans, built once.
var serverSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// injectTrace writes the span's traceparent into the record's headers.
func (s *Service) injectTrace(ctx context.Context, rec *kgo.Record) {
	telemetry.InjectRecord(ctx, s.prop, rec)
}
