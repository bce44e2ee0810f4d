package pgcdc

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	events     *prometheus.CounterVec
	heartbeats prometheus.Counter
}

// newMetrics creates the capture's metrics, labelled with its source, and
// registers them on reg when it is not nil.
func newMetrics(c *Capture, reg prometheus.Registerer) (*metrics, error) {
	labels := prometheus.Labels{"source": c.cfg.Source}
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_cdc_pg_events_total", ConstLabels: labels,
			Help: "Change events produced from PostgreSQL, by table and op (r counts snapshot rows).",
		}, []string{"table", "op"}),
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riacho_cdc_pg_heartbeats_total", ConstLabels: labels,
			Help: "Heartbeat messages read back from the replication stream.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	collectors := []prometheus.Collector{
		m.events, m.heartbeats,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "riacho_cdc_pg_lag_bytes", ConstLabels: labels,
			Help: "Bytes of WAL between the server's current position and the confirmed (Kafka-acknowledged) position.",
		}, func() float64 { return float64(c.lagBytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "riacho_cdc_pg_lag_seconds", ConstLabels: labels,
			Help: "Age of the oldest change read but not yet acknowledged by Kafka (0 when caught up).",
		}, func() float64 { return c.lagSeconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "riacho_cdc_pg_confirmed_lsn", ConstLabels: labels,
			Help: "Position reported to the server as flushed: every change before it was acknowledged by Kafka.",
		}, func() float64 { return float64(c.confirmed.Load()) }),
	}
	for _, col := range collectors {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("pgcdc: register metrics of source %s: %w", c.cfg.Source, err)
		}
	}
	return m, nil
}
