// Package freshness tracks, per source, how old the newest event is and
// whether that age exceeds the source's update SLA.
//
// The defaults are the platform design's "SLA Atualização" column: CRM
// Ploomes 15 minutes, ERP SAP B1 30 minutes, WhatsApp API 5 minutes, Ads
// platforms 1 hour. A source without its own SLA takes the SLA of the part of
// its name before the first dot ("ploomes.deals" → "ploomes"), then
// Options.DefaultSLA; with neither it is measured but never in breach.
//
// Observe records event times (the newest wins, so late events do not make
// a source look stale). Check(now) returns the breaches that began since the
// previous Check: a source in breach is reported once and not again until a
// Check finds it within its SLA. Sources listed in Options.Expected are in
// breach when they have sent nothing for their SLA since the Tracker was
// created.
//
// Metrics, computed at scrape time with Options.Now:
// riacho_quality_freshness_seconds{source} (seconds since the newest event),
// riacho_quality_freshness_sla_seconds{source},
// riacho_quality_freshness_breached{source} (1 when the age exceeds the SLA)
// and the counter riacho_quality_freshness_breaches_total{source} (breaches
// reported by Check).
package freshness

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrConfig wraps every configuration problem reported by New.
var ErrConfig = errors.New("invalid freshness config")

// DefaultSLAs returns the seed's update SLAs, keyed by the source names
// riacho uses and their usual aliases.
func DefaultSLAs() map[string]time.Duration {
	return map[string]time.Duration{
		"ploomes":    15 * time.Minute,
		"sapb1":      30 * time.Minute,
		"sap_b1":     30 * time.Minute,
		"whatsapp":   5 * time.Minute,
		"ads":        time.Hour,
		"meta":       time.Hour,
		"meta_ads":   time.Hour,
		"google_ads": time.Hour,
	}
}

// Options configure a Tracker.
type Options struct {
	SLAs       map[string]time.Duration // per source; nil means DefaultSLAs()
	DefaultSLA time.Duration            // for sources matching no SLA; 0 means none
	Expected   []string                 // sources in breach when never observed within their SLA
	Now        func() time.Time         // clock for metrics and the Expected start; default time.Now
	Registerer prometheus.Registerer    // nil: no metrics registered
}

// Breach is a source whose newest event is older than its SLA.
type Breach struct {
	Source string
	SLA    time.Duration
	Newest time.Time     // newest event time; zero when never observed
	Age    time.Duration // now − Newest, or time since the Tracker started when never observed
}

// String describes b in one line.
func (b Breach) String() string {
	if b.Newest.IsZero() {
		return fmt.Sprintf("%s: no events for %s (SLA %s)", b.Source, b.Age.Round(time.Second), b.SLA)
	}
	return fmt.Sprintf("%s: newest event %s old (SLA %s)", b.Source, b.Age.Round(time.Second), b.SLA)
}

// Tracker holds the newest event time per source. It is safe for
// concurrent use.
type Tracker struct {
	slas       map[string]time.Duration
	defaultSLA time.Duration
	now        func() time.Time
	start      time.Time
	breaches   *prometheus.CounterVec

	mu      sync.Mutex
	sources map[string]*state
}

// state is one source's record.
type state struct {
	sla      time.Duration // 0: no SLA
	newest   time.Time
	breached bool // reported by Check and not yet recovered
}

// New validates opts and returns a Tracker.
func New(opts Options) (*Tracker, error) {
	slas := opts.SLAs
	if slas == nil {
		slas = DefaultSLAs()
	}
	t := &Tracker{slas: map[string]time.Duration{}, defaultSLA: opts.DefaultSLA, now: opts.Now,
		sources: map[string]*state{}}
	if t.now == nil {
		t.now = time.Now
	}
	var errs []error
	for src, d := range slas {
		if src == "" || strings.TrimSpace(src) != src {
			errs = append(errs, fmt.Errorf("%w: source name %q", ErrConfig, src))
		}
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%w: source %s: SLA %s is not positive", ErrConfig, src, d))
		}
		t.slas[src] = d
	}
	if opts.DefaultSLA < 0 {
		errs = append(errs, fmt.Errorf("%w: default SLA %s is negative", ErrConfig, opts.DefaultSLA))
	}
	t.start = t.now()
	for _, src := range opts.Expected {
		sla := t.slaFor(src)
		if sla <= 0 {
			errs = append(errs, fmt.Errorf("%w: expected source %s has no SLA", ErrConfig, src))
		}
		t.sources[src] = &state{sla: sla}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.breaches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "riacho_quality_freshness_breaches_total",
		Help: "Freshness SLA breaches reported (once per breach), by source.",
	}, []string{"source"})
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(t.breaches); err != nil {
			return nil, fmt.Errorf("register freshness metrics: %w", err)
		}
		if err := opts.Registerer.Register(newCollector(t)); err != nil {
			opts.Registerer.Unregister(t.breaches)
			return nil, fmt.Errorf("register freshness metrics: %w", err)
		}
	}
	return t, nil
}

// slaFor is the SLA of src: its own, its prefix's, or the default.
func (t *Tracker) slaFor(src string) time.Duration {
	if d, ok := t.slas[src]; ok {
		return d
	}
	if i := strings.IndexByte(src, '.'); i > 0 {
		if d, ok := t.slas[src[:i]]; ok {
			return d
		}
	}
	return t.defaultSLA
}

// SLA returns the update SLA that applies to source, 0 when none does.
func (t *Tracker) SLA(source string) time.Duration {
	return t.slaFor(source)
}

// Observe records an event of source with the given event time.
func (t *Tracker) Observe(source string, eventTime time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sources[source]
	if !ok {
		s = &state{sla: t.slaFor(source)}
		t.sources[source] = s
	}
	if eventTime.After(s.newest) {
		s.newest = eventTime
	}
}

// age is how stale s is at now; never-observed sources count from start.
func (t *Tracker) age(s *state, now time.Time) time.Duration {
	if s.newest.IsZero() {
		return now.Sub(t.start)
	}
	return max(0, now.Sub(s.newest))
}

// Check returns, sorted by source, the breaches that began since the
// previous Check, and marks sources back within their SLA as recovered.
func (t *Tracker) Check(now time.Time) []Breach {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Breach
	for src, s := range t.sources {
		if s.sla <= 0 {
			continue
		}
		age := t.age(s, now)
		switch {
		case age <= s.sla:
			s.breached = false
		case !s.breached:
			s.breached = true
			t.breaches.WithLabelValues(src).Inc()
			out = append(out, Breach{Source: src, SLA: s.sla, Newest: s.newest, Age: age})
		}
	}
	slices.SortFunc(out, func(a, b Breach) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// Breached returns, sorted, the sources reported in breach by Check and not
// yet recovered.
func (t *Tracker) Breached() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for src, s := range t.sources {
		if s.breached {
			out = append(out, src)
		}
	}
	slices.Sort(out)
	return out
}

// Newest returns the newest event time observed for source.
func (t *Tracker) Newest(source string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sources[source]
	if !ok || s.newest.IsZero() {
		return time.Time{}, false
	}
	return s.newest, true
}

// Reading is one source's freshness at a moment.
type Reading struct {
	Source string
	// Newest is the newest event time; zero when nothing was observed yet.
	Newest time.Time
	// Age is now minus Newest, or the time waited since the Tracker started.
	Age time.Duration
	// SLA is the source's update SLA; 0 when none applies.
	SLA time.Duration
	// Breached is true when the source has an SLA and Age exceeds it.
	Breached bool
}

// Readings returns the freshness of every known source at now, sorted by
// source: the expected ones and every one observed.
func (t *Tracker) Readings(now time.Time) []Reading {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Reading, 0, len(t.sources))
	for src, s := range t.sources {
		age := t.age(s, now)
		out = append(out, Reading{Source: src, Newest: s.newest, Age: age, SLA: s.sla, Breached: s.sla > 0 && age > s.sla})
	}
	slices.SortFunc(out, func(a, b Reading) int { return strings.Compare(a.Source, b.Source) })
	return out
}
