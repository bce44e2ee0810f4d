package control

import (
	"sync"
	"time"
)

// RateWindow is the span of recent time over which RateCounter.Rate averages.
const RateWindow = time.Minute

// RateCounter counts events and reports their total and recent per-second
// rate. It is safe for concurrent use.
type RateCounter struct {
	mu      sync.Mutex
	now     func() time.Time
	window  int64 // seconds
	created time.Time
	total   uint64
	counts  []uint64 // per-second buckets, indexed by unix second mod len
	stamps  []int64  // the unix second each bucket currently holds
}

// newRateCounter returns a counter averaging over window (whole seconds, at
// least one) and reading time from now.
func newRateCounter(window time.Duration, now func() time.Time) *RateCounter {
	w := int64(window / time.Second)
	if w < 1 {
		w = 1
	}
	return &RateCounter{
		now:     now,
		window:  w,
		created: now(),
		counts:  make([]uint64, w+1),
		stamps:  make([]int64, w+1),
	}
}

// Add counts n more events.
func (c *RateCounter) Add(n uint64) {
	sec := c.now().Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.slot(sec)
	if c.stamps[i] != sec {
		c.stamps[i], c.counts[i] = sec, 0
	}
	c.counts[i] += n
	c.total += n
}

// Inc counts one event.
func (c *RateCounter) Inc() { c.Add(1) }

// Total returns the number of events counted since the counter was created.
func (c *RateCounter) Total() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Rate returns events per second over the last RateWindow, or over the
// counter's lifetime (at least one second) when that is shorter.
func (c *RateCounter) Rate() float64 {
	now := c.now()
	sec := now.Unix()
	frac := float64(now.Nanosecond()) / float64(time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	// The window is (now-W, now]: buckets sec-W+1..sec lie inside it, bucket
	// sec-W only for its last (1-frac) part.
	var sum float64
	for s := sec - c.window + 1; s <= sec; s++ {
		if i := c.slot(s); c.stamps[i] == s {
			sum += float64(c.counts[i])
		}
	}
	if s := sec - c.window; c.stamps[c.slot(s)] == s {
		sum += float64(c.counts[c.slot(s)]) * (1 - frac)
	}
	span := float64(c.window)
	if life := now.Sub(c.created).Seconds(); life < span {
		span = max(life, 1)
	}
	return sum / span
}

// slot maps a unix second to its bucket index.
func (c *RateCounter) slot(sec int64) int {
	n := int64(len(c.counts))
	return int(((sec % n) + n) % n)
}

// addTotal adds n to the total without counting it in the rate: history
// that happened before the counter existed.
func (c *RateCounter) addTotal(n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += n
}
