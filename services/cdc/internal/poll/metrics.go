package poll

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the poller's Prometheus series, labelled by source and
// entity. Several pollers may share one registerer: each metric is
// registered once and reused.
type metrics struct {
	rows, duplicates, pages, errors, deadLetters, problems *prometheus.CounterVec
	retries                                                *prometheus.CounterVec
	cursor, lastSuccess                                    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	se := []string{"source", "entity"}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
	}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, se))
	}
	return &metrics{
		rows:        counter("riacho_cdc_poll_rows_total", "Rows emitted by the cursor poller and acknowledged by Kafka.", se),
		duplicates:  counter("riacho_cdc_poll_duplicates_total", "Rows read again in the overlap window and dropped as already emitted.", se),
		pages:       counter("riacho_cdc_poll_pages_total", "Pages fetched from the source.", se),
		errors:      counter("riacho_cdc_poll_errors_total", "Polls that failed (retried with backoff).", se),
		deadLetters: counter("riacho_cdc_poll_dead_letters_total", "Rows written to the dead-letter topic because they could not be emitted.", se),
		problems:    counter("riacho_cdc_poll_field_problems_total", "Typed values left null because the source value did not fit (the original stays in _raw).", se),
		retries:     counter("riacho_cdc_poll_http_retries_total", "Requests retried by a REST fetcher, by reason (relogin, 429, 5xx).", []string{"source", "reason"}),
		cursor:      gauge("riacho_cdc_poll_cursor_timestamp_seconds", "Change time of the last row emitted (the stored cursor), Unix seconds."),
		lastSuccess: gauge("riacho_cdc_poll_last_success_timestamp_seconds", "When the entity last caught up with its source, Unix seconds."),
	}
}

// register registers c on reg, or returns the collector already registered
// under the same description.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing
			}
		}
	}
	return c
}
