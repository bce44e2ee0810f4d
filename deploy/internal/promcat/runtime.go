package promcat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/riacho/riacho/libs/envconf"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/telemetry"
)

// Runtime returns the families the shared libraries register at run time:
// everything on the registry libs/telemetry.Setup builds for a service
// (Go runtime, process and OpenTelemetry info metrics) and the kprom metrics
// libs/kafka registers for a client. Nothing is dialled.
func Runtime(ctx context.Context) ([]Metric, error) {
	base, err := telemetryFamilies(ctx)
	if err != nil {
		return nil, err
	}
	k, err := kafkaFamilies(ctx)
	if err != nil {
		return nil, err
	}
	return append(base, k...), nil
}

// telemetryFamilies gathers the registry of a fresh telemetry.Setup.
func telemetryFamilies(ctx context.Context) ([]Metric, error) {
	tel, err := telemetry.Setup(ctx, "promcat", "dev", telemetry.Config{
		LogLevel: "error", LogFormat: "json", TraceSampleRatio: 1, LogOutput: io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("telemetry setup: %w", err)
	}
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	fams, err := tel.Registry.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather telemetry registry: %w", err)
	}
	out := make([]Metric, 0, len(fams))
	for _, f := range fams {
		out = append(out, Metric{Name: f.GetName(), Kind: kindOf(f.GetType()), Where: "libs/telemetry.Setup registry"})
	}
	return out, nil
}

// kindOf maps an exposition type to a Kind.
func kindOf(t dto.MetricType) Kind {
	switch t {
	case dto.MetricType_COUNTER:
		return Counter
	case dto.MetricType_GAUGE:
		return Gauge
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return Histogram
	case dto.MetricType_SUMMARY:
		return Summary
	}
	return Untyped
}

// kafkaFamilies builds a producer (no connection is made until a record is
// sent) with a registerer that records every description it is given.
func kafkaFamilies(ctx context.Context) ([]Metric, error) {
	var cfg kafka.Config
	if err := envconf.Load(ctx, []string{"RIACHO_KAFKA_BROKERS=127.0.0.1:9"}, &cfg); err != nil {
		return nil, err
	}
	rec := &describeRecorder{}
	p, err := kafka.NewProducer(cfg, kafka.ProducerOptions{Telemetry: kafka.Telemetry{Registerer: rec}})
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	p.Close()
	if len(rec.names) == 0 {
		return nil, errors.New("libs/kafka registered no metrics: kprom wiring changed")
	}
	out := make([]Metric, 0, len(rec.names))
	for _, n := range rec.names {
		out = append(out, Metric{Name: n, Kind: Untyped, Where: "libs/kafka kprom"})
	}
	return out, nil
}

// fqName reads the name out of prometheus.Desc's String form, the only
// place client_golang shows it.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// describeRecorder is a prometheus.Registerer that keeps the metric names
// of what is registered.
type describeRecorder struct {
	mu    sync.Mutex
	names []string
}

// Register implements prometheus.Registerer.
func (r *describeRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names = append(r.names, m[1])
		}
	}
	return nil
}

// MustRegister implements prometheus.Registerer.
func (r *describeRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

// Unregister implements prometheus.Registerer.
func (r *describeRecorder) Unregister(prometheus.Collector) bool { return true }
