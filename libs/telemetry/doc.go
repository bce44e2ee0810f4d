// Package telemetry gives every riacho service the same observability wiring:
// JSON logs through log/slog with secret redaction, a Prometheus registry with
// Go and process collectors, an OpenTelemetry meter provider that exports into
// that registry, an OpenTelemetry tracer provider that exports over OTLP gRPC
// when an endpoint is configured, W3C trace-context propagation through Kafka
// record headers, and the operational HTTP endpoints /metrics, /healthz and
// /readyz.
//
// Nothing here touches global state: callers receive the providers from Setup
// and pass them on explicitly.
package telemetry
