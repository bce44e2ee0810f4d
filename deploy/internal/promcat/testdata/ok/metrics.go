// Package ok defines metrics in every form the scanner resolves.
package ok

import (
	prom "github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/metric"
)

const ns = "riacho"

var desc = prom.NewDesc("riacho_ok_desc_total", "A bare description.", nil, nil)

func newMetrics(m metric.Meter) {
	const sub = "ok"
	_ = prom.NewCounter(prom.CounterOpts{Namespace: ns, Subsystem: sub, Name: "parts_total"})
	_ = prom.NewHistogram(prom.HistogramOpts{Name: "riacho_ok_wait_seconds"})
	vec := func(name string) prom.Counter {
		return prom.NewCounter(prom.CounterOpts{Name: "riacho_ok_" + name + "_total"})
	}
	vec("sent")
	vec("failed")
	gauge("riacho_ok_open")
	_, _ = m.Float64Histogram("riacho.ok.duration", metric.WithUnit("s"))
	_, _ = m.Int64Counter("riacho.ok.events")
}

func gauge(name string) prom.Gauge {
	return prom.NewGauge(prom.GaugeOpts{Name: name})
}
