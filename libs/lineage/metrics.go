package lineage

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are an emitter's Prometheus collectors.
type metrics struct {
	sent, failed *prometheus.CounterVec
	dropped      prometheus.Counter
	queued       prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, transports []string, queued func() float64) (*metrics, error) {
	const ns, sub = "riacho", "lineage"
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "events_sent_total",
			Help: "OpenLineage run events delivered, by transport (http, kafka)."}, []string{"transport"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "events_failed_total",
			Help: "OpenLineage run events given up on after their retries (or refused by the receiver), by transport."}, []string{"transport"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "events_dropped_total",
			Help: "OpenLineage run events dropped because the send queue was full (RIACHO_LINEAGE_QUEUE_SIZE) or the emitter was closed."}),
		queued: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queue_events",
			Help: "OpenLineage run events waiting to be sent."}, queued),
	}
	for _, t := range transports { // every series shows from the start, at zero
		m.sent.WithLabelValues(t)
		m.failed.WithLabelValues(t)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sent, m.failed, m.dropped, m.queued} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register lineage metrics: %w (one emitter per registry)", err)
		}
	}
	return m, nil
}
