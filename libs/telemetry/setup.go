package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Telemetry holds one service's logger, metrics and tracing providers.
type Telemetry struct {
	// Logger writes structured logs carrying a "service" attribute.
	Logger *slog.Logger
	// Registry holds the Go and process collectors and every OpenTelemetry metric.
	Registry *prometheus.Registry
	// TracerProvider exports spans over OTLP gRPC, or records nothing when no endpoint is set.
	TracerProvider trace.TracerProvider
	// MeterProvider records OpenTelemetry metrics exposed through Registry.
	MeterProvider metric.MeterProvider
	// Propagator carries W3C trace context and baggage.
	Propagator propagation.TextMapPropagator

	shutdownOnce sync.Once
	shutdownErr  error
	shutdowns    []func(context.Context) error
}

// Setup validates cfg and builds the telemetry for serviceName at version.
// Call Shutdown to flush spans and release the exporters.
func Setup(ctx context.Context, serviceName, version string, cfg Config) (*Telemetry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("telemetry config: %w", err)
	}
	if cfg.ServiceName != "" {
		serviceName = cfg.ServiceName
	}
	if serviceName == "" {
		return nil, errors.New("telemetry setup: empty service name")
	}
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	logger, err := NewLogger(out, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{
		Logger:     logger.With(slog.String("service", serviceName)),
		Registry:   prometheus.NewRegistry(),
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	if err := t.Registry.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("register go collector: %w", err)
	}
	if err := t.Registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("register process collector: %w", err)
	}

	res := resource.NewSchemaless(
		attribute.String("service.name", serviceName),
		attribute.String("service.version", version),
	)

	promExp, err := otelprom.New(otelprom.WithRegisterer(t.Registry))
	if err != nil {
		return nil, fmt.Errorf("create prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(promExp), sdkmetric.WithResource(res))
	t.MeterProvider = mp
	t.shutdowns = append(t.shutdowns, mp.Shutdown)

	endpoint := cfg.Endpoint()
	if endpoint == "" {
		t.TracerProvider = noop.NewTracerProvider()
		return t, nil
	}
	target, err := parseEndpoint(endpoint, cfg.OTLPInsecure)
	if err != nil {
		return nil, errors.Join(err, t.Shutdown(ctx))
	}
	opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(target.hostPort)}
	if target.insecure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	exp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("create otlp trace exporter: %w", err), t.Shutdown(ctx))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.TraceSampleRatio))),
	)
	t.TracerProvider = tp
	// Tracer provider first: spans flush while the meter provider still works.
	t.shutdowns = append([]func(context.Context) error{tp.Shutdown}, t.shutdowns...)
	t.Logger.Debug("trace export enabled", slog.String("otlp_endpoint", target.hostPort))
	return t, nil
}

// Shutdown flushes pending spans and stops the providers; ctx bounds the wait.
// Calls after the first return the first call's result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		var errs []error
		for _, f := range t.shutdowns {
			if err := f(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			t.shutdownErr = fmt.Errorf("telemetry shutdown: %w", errors.Join(errs...))
		}
	})
	return t.shutdownErr
}
