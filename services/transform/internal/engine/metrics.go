package engine

import "github.com/prometheus/client_golang/prometheus"

// metrics are the engine's Prometheus collectors, labelled by model.
type metrics struct {
	in, out, duplicates, tombstones *prometheus.CounterVec
	dead                            *prometheus.CounterVec
	txns                            *prometheus.CounterVec
	batch, duck                     *prometheus.HistogramVec
	paused, running                 *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "riacho", Subsystem: "transform", Name: name, Help: help}, labels)
	}
	buckets := prometheus.ExponentialBuckets(0.001, 2, 14)
	m := &metrics{
		in:         counter("records_in_total", "Input records read, by model.", "model"),
		out:        counter("records_out_total", "Output records produced, by model.", "model"),
		duplicates: counter("duplicates_dropped_total", "Output rows dropped as duplicates by unique_key, by model.", "model"),
		tombstones: counter("tombstones_skipped_total", "Input records without a value (tombstones), skipped, by model.", "model"),
		dead:       counter("dead_letters_total", "Records sent to the dead-letter topic, by model and reason.", "model", "reason"),
		txns:       counter("transactions_total", "Batch transactions, by model and result (committed, aborted).", "model", "result"),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "riacho", Subsystem: "transform", Name: "batch_seconds",
			Help: "Time from a batch's first record polled to its transaction committed, by model.", Buckets: buckets}, []string{"model"}),
		duck: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "riacho", Subsystem: "transform", Name: "duckdb_seconds",
			Help: "DuckDB's own time per batch (load, query, fetch), by model.", Buckets: buckets}, []string{"model"}),
		paused: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "riacho", Subsystem: "transform", Name: "model_paused",
			Help: "1 while a model is paused.", ConstLabels: nil}, []string{"model"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "riacho", Subsystem: "transform", Name: "model_running",
			Help: "1 while a model's loop is consuming, 0 while it starts, waits or failed."}, []string{"model"}),
	}
	for _, c := range []prometheus.Collector{m.in, m.out, m.duplicates, m.tombstones, m.dead, m.txns, m.batch, m.duck, m.paused, m.running} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
