package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a manual clock for TTL tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func withClock(c *Cache) *clock {
	clk := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	c.now = clk.now
	return clk
}

// has reports which keys are present at generation 1, without changing LRU order.
func has(c *Cache, keys ...string) string {
	var out []string
	for _, k := range keys {
		if _, ok := c.peek(k, 1); ok {
			out = append(out, k)
		}
	}
	return strings.Join(out, ",")
}

func TestEvictionByCount(t *testing.T) {
	c := New(2, 0, 0)
	c.Put("a", 1, "A", 10)
	c.Put("b", 1, "B", 10)
	if v, ok := c.Get("a", 1); !ok || v != "A" { // a becomes most recently used
		t.Fatalf("Get a = %v, %v", v, ok)
	}
	c.Put("c", 1, "C", 10)
	if got := has(c, "a", "b", "c"); got != "a,c" {
		t.Errorf("after third put: %s, want a,c (b least recently used)", got)
	}
	s := c.Stats()
	if s.Evictions != 1 || s.Entries != 2 || s.Bytes != 20 {
		t.Errorf("stats %+v", s)
	}
	// Replacing a key does not evict another.
	c.Put("c", 1, "C2", 10)
	if got := has(c, "a", "b", "c"); got != "a,c" {
		t.Errorf("after replacing c: %s", got)
	}
}

func TestEvictionByBytes(t *testing.T) {
	c := New(0, 100, 0)
	c.Put("a", 1, "A", 40)
	c.Put("b", 1, "B", 40)
	c.Put("c", 1, "C", 40)
	if got := has(c, "a", "b", "c"); got != "b,c" {
		t.Errorf("keys %s, want b,c", got)
	}
	if s := c.Stats(); s.Bytes != 80 || s.Evictions != 1 {
		t.Errorf("stats %+v", s)
	}
	// One answer larger than the whole cache is not stored and evicts nothing.
	c.Put("huge", 1, "H", 101)
	if got := has(c, "a", "b", "c", "huge"); got != "b,c" {
		t.Errorf("after huge: %s", got)
	}
	if s := c.Stats(); s.Rejected != 1 {
		t.Errorf("rejected %d", s.Rejected)
	}
	// A big answer evicts as many as needed.
	c.Put("big", 1, "B", 90)
	if got := has(c, "b", "c", "big"); got != "big" {
		t.Errorf("after big: %s", got)
	}
	if s := c.Stats(); s.Bytes != 90 || s.Entries != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestTTL(t *testing.T) {
	c := New(10, 0, time.Minute)
	clk := withClock(c)
	c.Put("a", 1, "A", 1)
	clk.advance(59 * time.Second)
	if _, ok := c.Get("a", 1); !ok {
		t.Fatal("answer expired early")
	}
	clk.advance(time.Second)
	if _, ok := c.Get("a", 1); ok {
		t.Fatal("answer served after its TTL")
	}
	if s := c.Stats(); s.Expired != 1 || s.Entries != 0 || s.Hits != 1 || s.Misses != 1 {
		t.Errorf("stats %+v", s)
	}
	// Without a TTL nothing expires.
	c = New(10, 0, 0)
	clk = withClock(c)
	c.Put("a", 1, "A", 1)
	clk.advance(1000 * time.Hour)
	if _, ok := c.Get("a", 1); !ok {
		t.Error("answer expired without a TTL")
	}
}

func TestGenerations(t *testing.T) {
	c := New(10, 0, 0)
	c.Put("q", 5, "at5", 1)
	if _, ok := c.Get("q", 4); ok {
		t.Error("answer of generation 5 served at 4")
	}
	if _, ok := c.peek("q", 5); !ok {
		t.Error("a reader at an older generation dropped the newer answer")
	}
	c.Put("q", 4, "at4", 1) // a slow query finishing late does not replace the newer answer
	if v, ok := c.Get("q", 5); !ok || v != "at5" {
		t.Errorf("Get at 5 = %v, %v", v, ok)
	}
	if _, ok := c.Get("q", 6); ok {
		t.Error("answer of generation 5 served at 6")
	}
	if c.Len() != 0 {
		t.Error("stale answer kept after a newer generation was asked for")
	}
}

func TestInvalidate(t *testing.T) {
	c := New(10, 0, 0)
	c.Put("a", 1, "A", 1)
	c.Put("b", 2, "B", 2)
	c.Put("c", 3, "C", 3)
	c.Invalidate(3)
	if c.Len() != 1 {
		t.Fatalf("len %d, want 1", c.Len())
	}
	if _, ok := c.Get("c", 3); !ok {
		t.Error("answer of the current generation dropped")
	}
	if s := c.Stats(); s.Invalidated != 2 || s.Bytes != 3 {
		t.Errorf("stats %+v", s)
	}
	c.Clear()
	if s := c.Stats(); s.Entries != 0 || s.Bytes != 0 || s.Invalidated != 3 {
		t.Errorf("after Clear %+v", s)
	}
	if _, ok := c.Get("c", 3); ok {
		t.Error("answer served after Clear")
	}
}

func TestGetOrComputeRunsOnce(t *testing.T) {
	const n = 16
	c := New(10, 0, 0)
	var runs atomic.Int32
	release := make(chan struct{})
	fn := func() (Entry, int64, error) {
		runs.Add(1)
		<-release
		return "answer", 6, nil
	}
	var wg sync.WaitGroup
	results := make([]string, n)
	cached := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			v, hit, err := c.GetOrCompute(context.Background(), "q", 7, fn)
			results[i], _ = v.(string)
			cached[i], errs[i] = hit, err
		})
	}
	// Every goroutine has missed before the query is allowed to finish.
	for c.Stats().Misses < n {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if got := runs.Load(); got != 1 {
		t.Errorf("fn ran %d times for %d identical misses", got, n)
	}
	ranHere := 0
	for i := range n {
		if errs[i] != nil || results[i] != "answer" {
			t.Errorf("caller %d: %q, %v", i, results[i], errs[i])
		}
		if !cached[i] {
			ranHere++
		}
	}
	if ranHere != 1 {
		t.Errorf("%d callers report running fn, want 1", ranHere)
	}
	if v, ok := c.Get("q", 7); !ok || v != "answer" {
		t.Error("computed answer not stored")
	}
	if v, hit, err := c.GetOrCompute(context.Background(), "q", 7, fn); err != nil || !hit || v != "answer" || runs.Load() != 1 {
		t.Errorf("second call: %v %v %v, runs %d", v, hit, err, runs.Load())
	}
	// A new generation computes again.
	if v, hit, err := c.GetOrCompute(context.Background(), "q", 8, func() (Entry, int64, error) { return "new", 1, nil }); err != nil || hit || v != "new" {
		t.Errorf("new generation: %v %v %v", v, hit, err)
	}
	if s := c.Stats(); s.Computes != 2 {
		t.Errorf("computes %d, want 2", s.Computes)
	}
}

func TestGetOrComputeErrors(t *testing.T) {
	c := New(10, 0, 0)
	boom := errors.New("warehouse down")
	if _, _, err := c.GetOrCompute(context.Background(), "q", 1, func() (Entry, int64, error) { return nil, 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if c.Len() != 0 {
		t.Error("error cached")
	}
	if _, _, err := c.GetOrCompute(context.Background(), "q", 1, func() (Entry, int64, error) { panic("bug") }); err == nil || !strings.Contains(err.Error(), "panicked: bug") {
		t.Errorf("panic: %v", err)
	}
	if v, _, err := c.GetOrCompute(context.Background(), "q", 1, func() (Entry, int64, error) { return "ok", 1, nil }); err != nil || v != "ok" {
		t.Errorf("after errors: %v %v", v, err)
	}
}

func TestGetOrComputeContext(t *testing.T) {
	c := New(10, 0, 0)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, _, err := c.GetOrCompute(context.Background(), "q", 1, func() (Entry, int64, error) {
			<-release
			return "late", 1, nil
		})
		done <- err
	}()
	for c.Stats().Computes < 1 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.GetOrCompute(ctx, "q", 1, func() (Entry, int64, error) { return "other", 1, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled waiter: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("q", 1); !ok || v != "late" {
		t.Errorf("the first caller's answer was not stored: %v %v", v, ok)
	}
}

// TestConcurrentUse hammers the cache from many goroutines (run with -race)
// and checks its bookkeeping afterwards.
func TestConcurrentUse(t *testing.T) {
	c := New(50, 5000, time.Hour)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprintf("k%d", (i*7+g)%120)
				gen := int64(i / 500)
				switch i % 5 {
				case 0, 1:
					c.Put(key, gen, i, int64(i%200))
				case 2:
					c.Get(key, gen)
				case 3:
					_, _, _ = c.GetOrCompute(context.Background(), key, gen, func() (Entry, int64, error) { return i, 10, nil })
				case 4:
					if i%100 == 4 {
						c.Invalidate(gen)
					}
				}
			}
		})
	}
	wg.Wait()
	s := c.Stats()
	c.mu.Lock()
	defer c.mu.Unlock()
	var bytes int64
	for el := c.lru.Front(); el != nil; el = el.Next() {
		bytes += el.Value.(*item).size
	}
	if s.Entries != c.lru.Len() || s.Entries != len(c.items) || s.Bytes != bytes || s.Entries > 50 || s.Bytes > 5000 {
		t.Errorf("inconsistent: stats %+v, list %d, map %d, bytes %d", s, c.lru.Len(), len(c.items), bytes)
	}
}

func TestCollector(t *testing.T) {
	c := New(1, 0, 0)
	reg := prometheus.NewPedanticRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	c.Put("a", 1, "A", 7)
	c.Get("a", 1)
	c.Get("b", 1)
	c.Put("b", 1, "B", 9) // evicts a
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"riacho_metrics_cache_hits_total": 1, "riacho_metrics_cache_misses_total": 1,
		"riacho_metrics_cache_evictions_total{lru}": 1, "riacho_metrics_cache_evictions_total{invalidated}": 0,
		"riacho_metrics_cache_entries": 1, "riacho_metrics_cache_bytes": 9,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := New(10000, 0, time.Minute)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("metrics=mrr|grain=month|dims=customer_segment|filters=%d", i)
		c.Put(keys[i], 42, i, 1024)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := c.Get(keys[i%len(keys)], 42); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkGetHitParallel(b *testing.B) {
	c := New(10000, 0, time.Minute)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("metrics=mrr|grain=month|dims=customer_segment|filters=%d", i)
		c.Put(keys[i], 42, i, 1024)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(keys[i%len(keys)], 42); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

func BenchmarkPutEvict(b *testing.B) {
	c := New(1000, 0, 0)
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("q%d", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Put(keys[i%len(keys)], 1, i, 100)
	}
}
