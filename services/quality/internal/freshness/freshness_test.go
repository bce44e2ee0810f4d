package freshness

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func newTracker(t *testing.T, opts Options) (*Tracker, *clock) {
	t.Helper()
	c := &clock{t: t0}
	opts.Now = c.Now
	tr, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tr, c
}

func TestDefaultSLAs(t *testing.T) {
	tr, _ := newTracker(t, Options{})
	want := map[string]time.Duration{
		"ploomes": 15 * time.Minute, "ploomes.deals": 15 * time.Minute,
		"sapb1": 30 * time.Minute, "sap_b1": 30 * time.Minute,
		"whatsapp": 5 * time.Minute,
		"ads":      time.Hour, "meta": time.Hour, "google_ads": time.Hour, "meta_ads": time.Hour,
		"spreadsheet": 0, ".ploomes": 0,
	}
	for src, d := range want {
		t.Run(src, func(t *testing.T) {
			if got := tr.SLA(src); got != d {
				t.Errorf("SLA(%q) = %s, want %s", src, got, d)
			}
		})
	}
}

func TestSLAOverrides(t *testing.T) {
	slas := DefaultSLAs()
	slas["ploomes.deals"] = 2 * time.Minute
	tr, _ := newTracker(t, Options{SLAs: slas, DefaultSLA: 3 * time.Hour})
	for src, d := range map[string]time.Duration{"ploomes.deals": 2 * time.Minute, "ploomes.leads": 15 * time.Minute, "csv": 3 * time.Hour} {
		if got := tr.SLA(src); got != d {
			t.Errorf("SLA(%q) = %s, want %s", src, got, d)
		}
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"zero sla", Options{SLAs: map[string]time.Duration{"ploomes": 0}}, []string{"source ploomes: SLA 0s"}},
		{"negative sla", Options{SLAs: map[string]time.Duration{"x": -time.Second}}, []string{"source x: SLA -1s"}},
		{"empty name", Options{SLAs: map[string]time.Duration{"": time.Second}}, []string{`source name ""`}},
		{"negative default", Options{DefaultSLA: -time.Minute}, []string{"default SLA -1m0s"}},
		{"expected without sla", Options{Expected: []string{"csv", "ploomes"}}, []string{"expected source csv has no SLA"}},
		{"every problem", Options{SLAs: map[string]time.Duration{"a": 0, "b": -1}}, []string{"source a", "source b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestCheckReportsOnce walks one source through breach, silence, recovery
// and a second breach.
func TestCheckReportsOnce(t *testing.T) {
	tr, _ := newTracker(t, Options{})
	tr.Observe("ploomes", t0)
	steps := []struct {
		name    string
		observe time.Time // zero: none
		check   time.Duration
		want    []string // Breach.String of what Check returns
		breach  []string // Breached() after the Check
	}{
		{"fresh", time.Time{}, time.Minute, nil, nil},
		{"exactly at the SLA", time.Time{}, 15 * time.Minute, nil, nil},
		{"just past the SLA", time.Time{}, 15*time.Minute + time.Second, []string{"ploomes: newest event 15m1s old (SLA 15m0s)"}, []string{"ploomes"}},
		{"still stale: not again", time.Time{}, 40 * time.Minute, nil, []string{"ploomes"}},
		{"late event older than newest changes nothing", t0.Add(-time.Hour), 41 * time.Minute, nil, []string{"ploomes"}},
		{"fresh event: recovered", t0.Add(42 * time.Minute), 43 * time.Minute, nil, nil},
		{"stale again: reported again", time.Time{}, 58 * time.Minute, []string{"ploomes: newest event 16m0s old (SLA 15m0s)"}, []string{"ploomes"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if !s.observe.IsZero() {
				tr.Observe("ploomes", s.observe)
			}
			var got []string
			for _, b := range tr.Check(t0.Add(s.check)) {
				got = append(got, b.String())
			}
			if !slices.Equal(got, s.want) {
				t.Errorf("Check = %q, want %q", got, s.want)
			}
			if b := tr.Breached(); !slices.Equal(b, s.breach) {
				t.Errorf("Breached = %q, want %q", b, s.breach)
			}
		})
	}
}

func TestCheckSources(t *testing.T) {
	tr, _ := newTracker(t, Options{Expected: []string{"whatsapp", "sapb1"}})
	tr.Observe("ploomes", t0.Add(-20*time.Minute))
	tr.Observe("meta", t0.Add(-30*time.Minute))
	tr.Observe("spreadsheet", t0.Add(-48*time.Hour)) // no SLA: never in breach
	tr.Observe("sapb1", t0.Add(time.Hour))           // event time ahead of the clock
	if got := tr.Check(t0.Add(5 * time.Minute)); len(got) != 1 || got[0].Source != "ploomes" {
		t.Fatalf("Check at +5m = %v, want only ploomes", got)
	}
	got := tr.Check(t0.Add(6 * time.Minute))
	want := []Breach{{Source: "whatsapp", SLA: 5 * time.Minute, Age: 6 * time.Minute}}
	if !slices.Equal(got, want) {
		t.Fatalf("Check at +6m = %+v, want %+v", got, want)
	}
	if s := got[0].String(); s != "whatsapp: no events for 6m0s (SLA 5m0s)" {
		t.Errorf("String = %q", s)
	}
	got = tr.Check(t0.Add(31 * time.Minute))
	if len(got) != 1 || got[0].Source != "meta" || got[0].Age != time.Hour+time.Minute {
		t.Fatalf("Check at +31m = %+v, want meta 1h1m old", got)
	}
	if b := tr.Breached(); !slices.Equal(b, []string{"meta", "ploomes", "whatsapp"}) {
		t.Errorf("Breached = %q", b)
	}
	if n, ok := tr.Newest("sapb1"); !ok || !n.Equal(t0.Add(time.Hour)) {
		t.Errorf("Newest(sapb1) = %v, %v", n, ok)
	}
	if _, ok := tr.Newest("whatsapp"); ok {
		t.Errorf("Newest(whatsapp) reports an event never observed")
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	tr, c := newTracker(t, Options{Registerer: reg, Expected: []string{"whatsapp"}})
	tr.Observe("ploomes", t0.Add(-10*time.Minute))
	tr.Observe("csv", t0.Add(-90*time.Second))
	c.Set(t0.Add(6 * time.Minute))
	tr.Check(c.Now())
	want := `
# HELP riacho_quality_freshness_breached 1 when the newest event of the source (or the tracker start, for an expected source never seen) is older than its SLA, else 0.
# TYPE riacho_quality_freshness_breached gauge
riacho_quality_freshness_breached{source="ploomes"} 1
riacho_quality_freshness_breached{source="whatsapp"} 1
# HELP riacho_quality_freshness_breaches_total Freshness SLA breaches reported (once per breach), by source.
# TYPE riacho_quality_freshness_breaches_total counter
riacho_quality_freshness_breaches_total{source="ploomes"} 1
riacho_quality_freshness_breaches_total{source="whatsapp"} 1
# HELP riacho_quality_freshness_seconds Seconds since the newest event of the source (event time).
# TYPE riacho_quality_freshness_seconds gauge
riacho_quality_freshness_seconds{source="csv"} 450
riacho_quality_freshness_seconds{source="ploomes"} 960
# HELP riacho_quality_freshness_sla_seconds Update SLA of the source in seconds.
# TYPE riacho_quality_freshness_sla_seconds gauge
riacho_quality_freshness_sla_seconds{source="ploomes"} 900
riacho_quality_freshness_sla_seconds{source="whatsapp"} 300
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// The gauges follow the clock between scrapes, without a Check.
	tr.Observe("whatsapp", t0.Add(6*time.Minute))
	c.Set(t0.Add(7 * time.Minute))
	want = `
# HELP riacho_quality_freshness_breached 1 when the newest event of the source (or the tracker start, for an expected source never seen) is older than its SLA, else 0.
# TYPE riacho_quality_freshness_breached gauge
riacho_quality_freshness_breached{source="ploomes"} 1
riacho_quality_freshness_breached{source="whatsapp"} 0
# HELP riacho_quality_freshness_seconds Seconds since the newest event of the source (event time).
# TYPE riacho_quality_freshness_seconds gauge
riacho_quality_freshness_seconds{source="csv"} 510
riacho_quality_freshness_seconds{source="ploomes"} 1020
riacho_quality_freshness_seconds{source="whatsapp"} 60
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "riacho_quality_freshness_seconds", "riacho_quality_freshness_breached"); err != nil {
		t.Error(err)
	}
	if _, err := New(Options{Registerer: reg}); err == nil {
		t.Error("a second tracker on the same registry registered")
	}
}

func TestBreachAlert(t *testing.T) {
	tests := []struct {
		b      Breach
		newest string
	}{
		{Breach{Source: "ploomes", SLA: 15 * time.Minute, Newest: t0, Age: 16*time.Minute + 300*time.Millisecond}, "2026-07-01T12:00:00Z"},
		{Breach{Source: "whatsapp", SLA: 5 * time.Minute, Age: 6 * time.Minute}, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.b.Source, func(t *testing.T) {
			a := tt.b.Alert()
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			if a.Kind != "sla" || a.Severity != "critical" || a.Key != "freshness/"+tt.b.Source {
				t.Errorf("alert %+v: want a critical sla alert keyed by source", a)
			}
			if a.Fields["newest event"] != tt.newest || a.Fields["sla"] != tt.b.SLA.String() {
				t.Errorf("fields %v", a.Fields)
			}
		})
	}
}

// TestConcurrent runs Observe, Check and scrapes together under -race and
// checks the newest time wins.
func TestConcurrent(t *testing.T) {
	reg := prometheus.NewRegistry()
	tr, _ := newTracker(t, Options{Registerer: reg})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				tr.Observe(fmt.Sprintf("src%d", i%7), t0.Add(time.Duration(w*500+i)*time.Second))
				if i%50 == 0 {
					tr.Check(t0.Add(time.Hour))
					if _, err := reg.Gather(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	newest := t0
	for i := range 7 {
		n, _ := tr.Newest(fmt.Sprintf("src%d", i))
		if n.After(newest) {
			newest = n
		}
	}
	if want := t0.Add(1999 * time.Second); !newest.Equal(want) {
		t.Errorf("newest = %v, want %v", newest, want)
	}
}

func BenchmarkObserve(b *testing.B) {
	tr, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ts := time.Now()
	for b.Loop() {
		tr.Observe("ploomes.deals", ts)
	}
}

func TestReadings(t *testing.T) {
	tr, _ := newTracker(t, Options{Expected: []string{"whatsapp"}})
	tr.Observe("ploomes", t0.Add(-20*time.Minute))
	tr.Observe("spreadsheet", t0.Add(-48*time.Hour))
	got := tr.Readings(t0.Add(time.Minute))
	want := []Reading{
		{Source: "ploomes", Newest: t0.Add(-20 * time.Minute), Age: 21 * time.Minute, SLA: 15 * time.Minute, Breached: true},
		{Source: "spreadsheet", Newest: t0.Add(-48 * time.Hour), Age: 48*time.Hour + time.Minute},
		{Source: "whatsapp", Age: time.Minute, SLA: 5 * time.Minute},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Readings =\n%+v\nwant\n%+v", got, want)
	}
}
