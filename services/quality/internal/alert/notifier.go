package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Notifier routes alerts to webhooks. Send queues; Run delivers.
type Notifier struct {
	opts    Options
	log     *slog.Logger
	m       *metrics
	routes  []*route
	stopped chan struct{} // closed when Send stops accepting
	// abandoned counts deliveries cut short by the end of the drain.
	abandoned atomic.Int64

	mu        sync.Mutex
	seen      map[string]time.Time // route name NUL dedupe key -> when queued
	lastSweep time.Time
	running   bool
	closed    bool
}

// route is a Route with its queue and token bucket (guarded by Notifier.mu).
type route struct {
	Route
	queue  chan job
	tokens float64
	filled time.Time
}

// job is one queued delivery.
type job struct {
	alert  Alert
	seenAt time.Time // the dedupe entry it created
	key    string
}

// New checks routes and returns a Notifier; it reports every invalid route
// (errors wrap ErrInvalidRoute) and fails when the metrics cannot be
// registered.
func New(routes []Route, opts Options) (*Notifier, error) {
	var errs []error
	names := map[string]bool{}
	for _, r := range routes {
		errs = append(errs, r.validate()...)
		if r.Name != "" && names[r.Name] {
			errs = append(errs, fmt.Errorf("route %s: %w: name used twice", r.Name, ErrInvalidRoute))
		}
		names[r.Name] = true
	}
	if len(routes) == 0 {
		errs = append(errs, fmt.Errorf("%w: no routes", ErrInvalidRoute))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	n := &Notifier{opts: opts, log: opts.Logger, stopped: make(chan struct{}), seen: map[string]time.Time{}}
	now := opts.Now()
	for _, r := range routes {
		n.routes = append(n.routes, &route{Route: r, queue: make(chan job, opts.QueueSize),
			tokens: float64(opts.RateLimit), filled: now})
	}
	m, err := newMetrics(opts.Registerer, routes)
	if err != nil {
		return nil, err
	}
	n.m = m
	return n, nil
}

// Send queues a to every route that takes it, after de-duplication and rate
// limiting, without waiting for the network. It returns ErrInvalidAlert,
// ErrNoRoute, ErrQueueFull (per route, joined) or ErrClosed; a dropped
// duplicate or rate-limited alert is not an error (it is counted).
func (n *Notifier) Send(ctx context.Context, a Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send alert: %w", err)
	}
	if err := a.Validate(); err != nil {
		return err
	}
	key := a.dedupeKey()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	now := n.opts.Now()
	n.sweep(now)
	var errs []error
	matched := false
	for _, r := range n.routes {
		if !r.matches(a) {
			continue
		}
		matched = true
		k := r.Name + "\x00" + key
		if t, ok := n.seen[k]; ok && n.opts.DedupeWindow > 0 && now.Sub(t) < n.opts.DedupeWindow {
			n.m.deduplicated.WithLabelValues(r.Name).Inc()
			n.log.Debug("alert deduplicated", "route", r.Name, "title", a.Title, "first", t)
			continue
		}
		if !n.take(r, now) {
			n.m.rateLimited.WithLabelValues(r.Name).Inc()
			n.log.Warn("alert rate limited", "route", r.Name, "title", a.Title, "severity", a.Severity)
			continue
		}
		select {
		case r.queue <- job{alert: a, seenAt: now, key: k}:
			n.seen[k] = now
		default:
			n.m.failed.WithLabelValues(r.Name).Inc()
			errs = append(errs, fmt.Errorf("route %s: %w", r.Name, ErrQueueFull))
		}
	}
	if !matched {
		return fmt.Errorf("alert %s/%s %q: %w", a.Kind, a.Severity, a.Title, ErrNoRoute)
	}
	return errors.Join(errs...)
}

// take refills r's bucket up to now and takes one token if there is one.
func (n *Notifier) take(r *route, now time.Time) bool {
	limit := float64(n.opts.RateLimit)
	if limit < 0 {
		return true
	}
	if el := now.Sub(r.filled); el > 0 {
		r.tokens = min(limit, r.tokens+limit*el.Minutes())
		r.filled = now
	}
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

// sweep drops dedupe entries older than the window, at most once a window.
func (n *Notifier) sweep(now time.Time) {
	w := n.opts.DedupeWindow
	if w <= 0 || now.Sub(n.lastSweep) < w {
		return
	}
	n.lastSweep = now
	for k, t := range n.seen {
		if now.Sub(t) >= w {
			delete(n.seen, k)
		}
	}
}

// forget removes the dedupe entry of a job that could not be delivered, so
// the next occurrence of the alert is tried.
func (n *Notifier) forget(j job) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if t, ok := n.seen[j.key]; ok && t.Equal(j.seenAt) {
		delete(n.seen, j.key)
	}
}

// Run delivers queued alerts, one worker per route, until ctx ends; then it
// stops accepting alerts and delivers what is queued for at most
// Options.DrainTimeout. It returns nil, ErrDrainTimeout when alerts were
// abandoned, ErrRunning or ErrClosed.
func (n *Notifier) Run(ctx context.Context) error {
	n.mu.Lock()
	switch {
	case n.closed:
		n.mu.Unlock()
		return ErrClosed
	case n.running:
		n.mu.Unlock()
		return ErrRunning
	}
	n.running = true
	n.mu.Unlock()

	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range n.routes {
		wg.Go(func() { n.work(dctx, r) })
	}
	<-ctx.Done()
	n.mu.Lock()
	n.closed = true
	close(n.stopped)
	n.mu.Unlock()
	timer := time.AfterFunc(n.opts.DrainTimeout, cancel)
	wg.Wait()
	timer.Stop()
	if a := n.abandoned.Load(); a > 0 {
		return fmt.Errorf("run alerts: %w after %s: %d alerts abandoned", ErrDrainTimeout, n.opts.DrainTimeout, a)
	}
	return nil
}

// work delivers r's queue until the notifier stops, then drains it.
func (n *Notifier) work(ctx context.Context, r *route) {
	for {
		select {
		case j := <-r.queue:
			n.deliver(ctx, r, j)
		case <-n.stopped:
			for {
				select {
				case j := <-r.queue:
					n.deliver(ctx, r, j)
				default:
					return
				}
			}
		}
	}
}

// deliver posts one alert and records the outcome.
func (n *Notifier) deliver(ctx context.Context, r *route, j job) {
	if err := n.post(ctx, r, render(r.Kind, j.alert)); err != nil {
		if ctx.Err() != nil {
			n.abandoned.Add(1)
		}
		n.m.failed.WithLabelValues(r.Name).Inc()
		n.forget(j)
		n.log.Error("alert not delivered", "route", r.Name, "title", j.alert.Title, "err", err)
		return
	}
	n.m.sent.WithLabelValues(r.Name).Inc()
}
