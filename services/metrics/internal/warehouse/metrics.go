package warehouse

import (
	"github.com/prometheus/client_golang/prometheus"
)

// loaderMetrics are the loader's Prometheus collectors.
type loaderMetrics struct {
	rows, rejects     *prometheus.CounterVec
	batches, failures prometheus.Counter
	commit            prometheus.Histogram
	lag               *prometheus.GaugeVec
	generation        prometheus.Gauge
}

func newLoaderMetrics(reg prometheus.Registerer) (*loaderMetrics, error) {
	const ns, sub = "riacho", "warehouse_loader"
	m := &loaderMetrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "rows_total",
			Help: "Records applied to a warehouse table (upserts, appends, tombstones), by table."}, []string{"table"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "rejects_total",
			Help: "Records written to riacho_rejects instead of their table, by table."}, []string{"table"}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "batches_total",
			Help: "Load transactions committed."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "failures_total",
			Help: "Load transactions that failed and were retried (warehouse or registry unavailable, conflicts)."}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "commit_seconds",
			Help:    "Time to write and commit one load transaction.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "lag_records",
			Help: "Committed records in Kafka not yet loaded, by topic (partitions this loader owns)."}, []string{"topic"}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "generation",
			Help: "Warehouse load generation of the newest commit."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.rows, m.rejects, m.batches, m.failures, m.commit, m.lag, m.generation} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
