package engine

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	records  *prometheus.CounterVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
	files    *prometheus.CounterVec
	commits  *prometheus.CounterVec
	dlq      *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	abandons *prometheus.CounterVec
	lag      *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_records_total",
			Help: "Records written to committed Parquet files, by topic.",
		}, []string{"topic"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_input_bytes_total",
			Help: "Avro bytes of the records written to committed files, by topic.",
		}, []string{"topic"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_parquet_bytes_total",
			Help: "Bytes of committed Parquet files, by topic.",
		}, []string{"topic"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_files_total",
			Help: "Parquet files committed to the lake, by topic.",
		}, []string{"topic"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_commits_total",
			Help: "Table commits by topic and result (ok, already_committed, gap, schema_mismatch, error).",
		}, []string{"topic", "result"}),
		dlq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_dead_letters_total",
			Help: "Records sent to the dead-letter topic, by topic and reason (wire, schema, decode, convert, incompatible: the table cannot take the writer schema).",
		}, []string{"topic", "reason"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_tombstones_total",
			Help: "Records without a value (tombstones) read and not written, by topic.",
		}, []string{"topic"}),
		abandons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_sink_abandoned_ranges_total",
			Help: "Open offset ranges whose staged files were dropped, by topic and reason (revoked, lost, already_committed, gap, schema_mismatch, error).",
		}, []string{"topic", "reason"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riacho_sink_lag_records",
			Help: "Records of a partition not yet in a committed file: the high watermark minus the table's next offset.",
		}, []string{"topic", "partition"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.records, m.bytesIn, m.bytesOut, m.files, m.commits, m.dlq, m.skipped, m.abandons, m.lag} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register sink metrics: %w (one engine per registry)", err)
			}
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
	}
	return m, nil
}
