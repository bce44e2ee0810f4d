package cache

import "github.com/prometheus/client_golang/prometheus"

var (
	descHits = prometheus.NewDesc("riacho_metrics_cache_hits_total",
		"Answer cache lookups that found an answer of the current warehouse generation.", nil, nil)
	descMisses = prometheus.NewDesc("riacho_metrics_cache_misses_total",
		"Answer cache lookups that found nothing usable.", nil, nil)
	descDropped = prometheus.NewDesc("riacho_metrics_cache_evictions_total",
		"Answers dropped from the cache, by reason: lru (entry or byte limit), expired (TTL), invalidated (the loader advanced), rejected (too large to store).",
		[]string{"reason"}, nil)
	descComputes = prometheus.NewDesc("riacho_metrics_cache_computations_total",
		"Queries run to fill the cache; concurrent identical misses run one.", nil, nil)
	descEntries = prometheus.NewDesc("riacho_metrics_cache_entries",
		"Answers in the cache.", nil, nil)
	descBytes = prometheus.NewDesc("riacho_metrics_cache_bytes",
		"Approximate size of the answers in the cache.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHits, descMisses, descDropped, descComputes, descEntries, descBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector from a Stats snapshot.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	s := c.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descHits, s.Hits)
	counter(descMisses, s.Misses)
	counter(descDropped, s.Evictions, "lru")
	counter(descDropped, s.Expired, "expired")
	counter(descDropped, s.Invalidated, "invalidated")
	counter(descDropped, s.Rejected, "rejected")
	counter(descComputes, s.Computes)
	ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(s.Entries))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(s.Bytes))
}

// Register adds the cache's metrics to reg (nil: nothing to do).
func (c *Cache) Register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	return reg.Register(c)
}
