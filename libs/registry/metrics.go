package registry

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the registry's Prometheus collectors.
type metrics struct {
	reg         prometheus.Registerer
	collectors  []prometheus.Collector
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	registered  prometheus.Counter
	recordsRead prometheus.Counter
	storeErrors prometheus.Counter
	ready       prometheus.Gauge
}

// newMetrics builds the collectors and registers them on reg when it is not nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_registry_http_requests_total",
			Help: "Schema registry HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "riacho_registry_http_request_duration_seconds",
			Help:    "Schema registry HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}, []string{"route"}),
		registered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riacho_registry_schemas_registered_total",
			Help: "Schema versions created by this registry instance.",
		}),
		recordsRead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riacho_registry_store_records_read_total",
			Help: "Records read from the registry topic.",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riacho_registry_store_write_errors_total",
			Help: "Failed writes to the registry topic.",
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "riacho_registry_ready",
			Help: "1 once the registry topic is loaded and requests are served, else 0.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.registered, m.recordsRead, m.storeErrors, m.ready} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, err
		}
		m.collectors = append(m.collectors, c)
	}
	return m, nil
}

// unregister removes the collectors so a later registry can use reg.
func (m *metrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}
