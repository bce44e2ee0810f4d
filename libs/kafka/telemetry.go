package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kotel"
	"github.com/twmb/franz-go/plugin/kprom"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// MetricsNamespace prefixes every metric kprom registers, e.g.
// riacho_kafka_produce_records_total.
const MetricsNamespace = "riacho_kafka"

// Telemetry holds the optional logger, metrics registerer and tracer
// provider of a Producer or Reader. Zero values turn each part off.
type Telemetry struct {
	// Logger receives franz-go's own log lines (info and above unless the
	// logger enables debug).
	Logger *slog.Logger
	// Registerer, when set, receives franz-go's kprom metrics, labelled
	// client=<MetricsLabel>: connection and request counters, buffered
	// records, and per node and topic {produce,fetch}_records_total,
	// _batches_total, _compressed_bytes_total and
	// _uncompressed_bytes_total, all prefixed riacho_kafka_. Metrics are
	// unregistered on Close.
	Registerer prometheus.Registerer
	// MetricsLabel tells clients sharing one Registerer apart; it must be
	// unique per Registerer. It defaults to "producer" for a Producer and to
	// the group for a Reader.
	MetricsLabel string
	// TracerProvider, when set, turns on kotel tracing: a producer span per
	// record whose context is injected into the record headers, and a
	// receive span per consumed record continuing the producer's trace.
	TracerProvider trace.TracerProvider
	// Propagator encodes span contexts into headers; W3C traceparent
	// (propagation.TraceContext) when nil.
	Propagator propagation.TextMapPropagator
}

// kgoOpts turns t into client options; group is set for readers. The
// returned check reports a metrics registration conflict once the client
// exists (kprom registers in NewClient).
func (t Telemetry) kgoOpts(defaultLabel, clientID, group string) (opts []kgo.Opt, check func() error) {
	check = func() error { return nil }
	if t.Logger != nil {
		opts = append(opts, kgo.WithLogger(newKgoLogger(t.Logger)))
	}
	if t.Registerer != nil {
		label := t.MetricsLabel
		if label == "" {
			label = defaultLabel
		}
		reg := &safeRegisterer{Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"client": label}, t.Registerer)}
		check = func() error {
			if err := reg.firstErr(); err != nil {
				return fmt.Errorf("kafka metrics for client=%q: %w (Telemetry.MetricsLabel must be unique per registerer)", label, err)
			}
			return nil
		}
		m := kprom.NewMetrics(MetricsNamespace,
			kprom.Registerer(reg),
			kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records,
				kprom.CompressedBytes, kprom.UncompressedBytes, kprom.ConsistentNaming),
		)
		opts = append(opts, kgo.WithHooks(m))
	}
	if t.TracerProvider != nil {
		prop := t.Propagator
		if prop == nil {
			prop = propagation.TraceContext{}
		}
		topts := []kotel.TracerOpt{kotel.TracerProvider(t.TracerProvider), kotel.TracerPropagator(prop)}
		if clientID != "" {
			topts = append(topts, kotel.ClientID(clientID))
		}
		if group != "" {
			topts = append(topts, kotel.ConsumerGroup(group))
		}
		k := kotel.NewKotel(kotel.WithTracer(kotel.NewTracer(topts...)))
		opts = append(opts, kgo.WithHooks(k.Hooks()...))
	}
	return opts, check
}

// safeRegisterer turns kprom's MustRegister panics into an error kept for
// later, and unregisters only what it registered itself (a failed
// duplicate must not take the first client's metrics away on Close).
type safeRegisterer struct {
	prometheus.Registerer

	mu   sync.Mutex
	err  error
	mine map[prometheus.Collector]bool
}

// MustRegister implements prometheus.Registerer without panicking.
func (s *safeRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = s.Register(c)
	}
}

// Register implements prometheus.Registerer.
func (s *safeRegisterer) Register(c prometheus.Collector) error {
	err := s.Registerer.Register(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return err
	}
	if s.mine == nil {
		s.mine = make(map[prometheus.Collector]bool)
	}
	s.mine[c] = true
	return nil
}

// Unregister implements prometheus.Registerer.
func (s *safeRegisterer) Unregister(c prometheus.Collector) bool {
	s.mu.Lock()
	ok := s.mine[c]
	delete(s.mine, c)
	s.mu.Unlock()
	return ok && s.Registerer.Unregister(c)
}

func (s *safeRegisterer) firstErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// kgoLogger adapts slog to franz-go's logger interface.
type kgoLogger struct {
	l     *slog.Logger
	level kgo.LogLevel
}

func newKgoLogger(l *slog.Logger) kgoLogger {
	level := kgo.LogLevelError
	switch ctx := context.Background(); {
	case l.Enabled(ctx, slog.LevelDebug):
		level = kgo.LogLevelDebug
	case l.Enabled(ctx, slog.LevelInfo):
		level = kgo.LogLevelInfo
	case l.Enabled(ctx, slog.LevelWarn):
		level = kgo.LogLevelWarn
	}
	return kgoLogger{l: l.With("component", "kafka"), level: level}
}

// Level implements kgo.Logger.
func (k kgoLogger) Level() kgo.LogLevel { return k.level }

// Log implements kgo.Logger.
func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var sl slog.Level
	switch level {
	case kgo.LogLevelError:
		sl = slog.LevelError
	case kgo.LogLevelWarn:
		sl = slog.LevelWarn
	case kgo.LogLevelInfo:
		sl = slog.LevelInfo
	default:
		sl = slog.LevelDebug
	}
	k.l.Log(context.Background(), sl, msg, keyvals...)
}
