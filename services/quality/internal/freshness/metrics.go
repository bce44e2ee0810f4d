package freshness

import "github.com/prometheus/client_golang/prometheus"

// collector exposes the Tracker's gauges, computed at scrape time.
type collector struct {
	t                  *Tracker
	age, sla, breached *prometheus.Desc
}

// newCollector builds the gauge descriptions for t.
func newCollector(t *Tracker) collector {
	return collector{t: t,
		age: prometheus.NewDesc("riacho_quality_freshness_seconds",
			"Seconds since the newest event of the source (event time).", []string{"source"}, nil),
		sla: prometheus.NewDesc("riacho_quality_freshness_sla_seconds",
			"Update SLA of the source in seconds.", []string{"source"}, nil),
		breached: prometheus.NewDesc("riacho_quality_freshness_breached",
			"1 when the newest event of the source (or the tracker start, for an expected source never seen) is older than its SLA, else 0.",
			[]string{"source"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.age
	ch <- c.sla
	ch <- c.breached
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	t := c.t
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for src, s := range t.sources {
		age := t.age(s, now)
		if !s.newest.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age.Seconds(), src)
		}
		if s.sla <= 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.sla, prometheus.GaugeValue, s.sla.Seconds(), src)
		breached := 0.0
		if age > s.sla {
			breached = 1
		}
		ch <- prometheus.MustNewConstMetric(c.breached, prometheus.GaugeValue, breached, src)
	}
}
