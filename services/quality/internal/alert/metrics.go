package alert

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the notifier's counters, labelled by route.
type metrics struct {
	sent, failed, deduplicated, rateLimited, retries *prometheus.CounterVec
}

// newMetrics builds the counters, creates a zero series per route, and
// registers them on reg when it is not nil.
func newMetrics(reg prometheus.Registerer, routes []Route) (*metrics, error) {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_quality_alerts_" + name + "_total", Help: help}, []string{"route"})
	}
	m := &metrics{
		sent:         vec("sent", "Alerts delivered to a webhook, by route."),
		failed:       vec("failed", "Alerts not delivered (error answer, retries exhausted, queue full), by route."),
		deduplicated: vec("deduplicated", "Alerts dropped as duplicates of one sent within the de-duplication window, by route."),
		rateLimited:  vec("rate_limited", "Alerts dropped by the per-route rate limit, by route."),
		retries:      vec("retries", "Webhook posts retried after a network error, 429 or 5xx, by route."),
	}
	all := []*prometheus.CounterVec{m.sent, m.failed, m.deduplicated, m.rateLimited, m.retries}
	for _, r := range routes {
		for _, v := range all {
			v.WithLabelValues(r.Name)
		}
	}
	if reg == nil {
		return m, nil
	}
	for i, v := range all {
		if err := reg.Register(v); err != nil {
			for _, done := range all[:i] {
				reg.Unregister(done)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register alert metrics: %w (one notifier per registry)", err)
			}
			return nil, fmt.Errorf("register alert metrics: %w", err)
		}
	}
	return m, nil
}
