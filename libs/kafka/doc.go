// Package kafka is riacho's thin layer over franz-go: a Config read from
// RIACHO_KAFKA_* environment variables, topic creation, an acks=all
// idempotent Producer whose ProduceAll answers within the caller's deadline,
// and a consumer-group Reader with explicit commits and lag reporting.
//
// Every constructor takes its logger, Prometheus registerer and OpenTelemetry
// tracer provider through options (see Telemetry); nothing is global.
// Metrics come from franz-go's kprom plugin and traces from its kotel plugin,
// which carries a W3C traceparent in each record's headers.
package kafka
