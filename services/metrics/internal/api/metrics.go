package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/services/metrics/internal/access"
)

type serverMetrics struct {
	queries    *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	rows       prometheus.Counter
	generation prometheus.Gauge
}

func newServerMetrics(reg prometheus.Registerer) (*serverMetrics, error) {
	m := &serverMetrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "riacho", Subsystem: "metrics", Name: "queries_total",
			Help: "Metric queries and explains answered, by method, gRPC code and whether the cache answered.",
		}, []string{"method", "code", "cached"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "riacho", Subsystem: "metrics", Name: "query_duration_seconds",
			Help:    "Time to answer a metric query, by method and whether the cache answered.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "cached"}),
		rows: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "riacho", Subsystem: "metrics", Name: "query_rows_total",
			Help: "Rows returned by metric queries.",
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "riacho", Subsystem: "metrics", Name: "warehouse_generation",
			Help: "Warehouse load generation the answers are computed at (moves with every loader commit).",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.queries, m.duration, m.rows, m.generation} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *serverMetrics) observe(e *access.Entry) {
	cached := "false"
	if e.Cached {
		cached = "true"
	}
	m.queries.WithLabelValues(e.Method, e.Code.String(), cached).Inc()
	m.duration.WithLabelValues(e.Method, cached).Observe(e.Duration.Seconds())
	m.rows.Add(float64(e.Rows))
}
