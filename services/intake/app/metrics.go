package app

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the intake's Prometheus series, labelled by source.
type metrics struct {
	requests   *prometheus.CounterVec
	rejections *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	events     *prometheus.CounterVec
	rows       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "riacho", Subsystem: "intake", Name: "requests_total",
			Help: "HTTP requests by source and response code.",
		}, []string{"source", "code"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "riacho", Subsystem: "intake", Name: "rejections_total",
			Help: "Rejected requests by source and reason (signature, malformed, too_large, unavailable, ...).",
		}, []string{"source", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "riacho", Subsystem: "intake", Name: "request_duration_seconds",
			Help:    "Time from request start to the answer, including the wait for Kafka acknowledgements.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"source"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "riacho", Subsystem: "intake", Name: "events_produced_total",
			Help: "Events acknowledged by Kafka, by source and topic.",
		}, []string{"source", "topic"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "riacho", Subsystem: "intake", Name: "upload_rows_total",
			Help: "Spreadsheet rows by source and outcome (accepted, rejected).",
		}, []string{"source", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.rejections, m.latency, m.events, m.rows} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
