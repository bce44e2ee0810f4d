package alert

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options tune a Notifier; zero values take the defaults.
type Options struct {
	DedupeWindow time.Duration // same key to the same route is dropped within it; default 10m, negative disables
	RateLimit    int           // alerts per route per minute (token bucket, burst = RateLimit); default 20, negative disables
	QueueSize    int           // queued alerts per route; default 100
	MaxAttempts  int           // posts per alert including the first; default 5
	Backoff      time.Duration // wait before the first retry without Retry-After, doubled each time; default 1s
	MaxBackoff   time.Duration // cap of the doubled backoff; default 1m
	MaxRetryWait time.Duration // a longer Retry-After ends the retries; default 5m
	DrainTimeout time.Duration // how long Run keeps delivering after its context ends; default 10s
	HTTPClient   *http.Client  // default: a client with a 10s timeout
	Logger       *slog.Logger  // default: discard
	Registerer   prometheus.Registerer
	// Now is the clock used by de-duplication, rate limiting and HTTP-date
	// Retry-After values; default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; default a timer. Tests inject one that
	// records the waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DedupeWindow, 10*time.Minute)
	def(&o.Backoff, time.Second)
	def(&o.MaxBackoff, time.Minute)
	def(&o.MaxRetryWait, 5*time.Minute)
	def(&o.DrainTimeout, 10*time.Second)
	if o.RateLimit == 0 {
		o.RateLimit = 20
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
