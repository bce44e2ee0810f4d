// Package promcat builds the catalog of Prometheus metric names that riacho's
// services export, from the services' own code, so dashboards and alert rules
// are checked against what is really exposed on /metrics.
//
// The catalog has two parts. The static part comes from scanning the Go
// sources of the six services and of the libs packages they import: every
// prometheus.NewDesc call and every prometheus.{Counter,Gauge,Histogram,
// Summary}Opts literal, with names built from constants, concatenations and
// parameters of small helper functions resolved to each call site, and every
// OpenTelemetry instrument translated to its Prometheus name the way
// libs/telemetry's exporter does. A definition the scanner cannot resolve is
// an error naming its file and line, never a silent gap. The runtime part
// comes from the real collectors: the registry libs/telemetry.Setup builds (Go
// runtime, process and OpenTelemetry info metrics) and the franz-go kprom
// metrics libs/kafka registers for every client.
package promcat
