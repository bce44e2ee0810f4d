package control

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// fakeClock is a settable clock for rate tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestRateCounterMath(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		name   string
		window time.Duration
		adds   map[float64]uint64 // offset seconds -> n
		at     float64
		want   float64
		total  uint64
	}{
		{"empty", 10 * time.Second, nil, 5, 0, 0},
		{"steady 10/s over full window", 10 * time.Second, every(0.5, 30, 10), 30, 10, 300},
		{"young counter divides by its age", 10 * time.Second, every(0.5, 5, 10), 5, 10, 50},
		{"under one second counts as one", 10 * time.Second, map[float64]uint64{0.1: 4}, 0.2, 4, 4},
		{"idle after burst decays to zero", 10 * time.Second, every(0.5, 5, 10), 100, 0, 50},
		{"half of oldest bucket counts", 10 * time.Second, map[float64]uint64{20.2: 20}, 30.5, 1, 20},
		{"oldest bucket outside window", 10 * time.Second, map[float64]uint64{19.9: 20}, 31, 0, 20},
		{"burst in window", 60 * time.Second, map[float64]uint64{100: 600}, 130, 10, 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: t0}
			c := newRateCounter(tt.window, clk.now)
			for _, off := range sortedKeys(tt.adds) {
				clk.set(sec(off))
				c.Add(tt.adds[off])
			}
			clk.set(sec(tt.at))
			if got := c.Rate(); math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("Rate() = %v, want %v", got, tt.want)
			}
			if got := c.Total(); got != tt.total {
				t.Fatalf("Total() = %d, want %d", got, tt.total)
			}
		})
	}
}

// every returns adds of n at start, start+1, ... for count seconds.
func every(start float64, count int, n uint64) map[float64]uint64 {
	m := map[float64]uint64{}
	for i := range count {
		m[start+float64(i)] = n
	}
	return m
}

func sortedKeys(m map[float64]uint64) []float64 {
	out := make([]float64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestRateCounterConcurrent(t *testing.T) {
	c := newRateCounter(RateWindow, time.Now)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Inc()
				_ = c.Rate()
			}
		})
	}
	wg.Wait()
	if c.Total() != 8000 {
		t.Fatalf("Total() = %d, want 8000", c.Total())
	}
	if c.Rate() <= 0 {
		t.Fatal("Rate() is zero after 8000 events")
	}
}

func BenchmarkRateCounterAdd(b *testing.B) {
	c := newRateCounter(RateWindow, time.Now)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Add(1)
		}
	})
}

// TestTrackFollowsARunningTotal: a tracked counter reports what its total
// held before tracking in Total only, increases since in the rate, and a
// total that went down becomes the new base.
func TestTrackFollowsARunningTotal(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0}
	st := newState(clk.now)
	var total atomic.Uint64
	total.Store(100)
	st.Track("records_curated", total.Load)
	rate := func() *controlv1.Rate {
		for _, r := range st.Status().GetRates() {
			if r.GetName() == "records_curated" {
				return r
			}
		}
		t.Fatal("records_curated missing from Status")
		return nil
	}
	if r := rate(); r.GetTotal() != 100 || r.GetPerSecond() != 0 {
		t.Fatalf("first sample: total %d rate %v, want 100 and 0", r.GetTotal(), r.GetPerSecond())
	}
	clk.set(t0.Add(time.Second))
	total.Store(130)
	st.sample()
	clk.set(t0.Add(2 * time.Second))
	if r := rate(); r.GetTotal() != 130 || r.GetPerSecond() != 15 {
		t.Fatalf("after 30 more: total %d rate %v, want 130 and 15/s", r.GetTotal(), r.GetPerSecond())
	}
	total.Store(10) // the component restarted its count
	st.sample()
	total.Store(20)
	if r := rate(); r.GetTotal() != 140 {
		t.Fatalf("after a reset and 10 more: total %d, want 140", r.GetTotal())
	}
}
