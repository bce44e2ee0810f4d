// Package cache keeps recent query answers in memory until the warehouse
// they were read from changes.
//
// Each answer is stored under a canonical request key together with the
// warehouse generation it was computed at (the generation moves with every
// loader commit). A lookup names the current generation and only an answer
// of exactly that generation is returned, so a stale answer is never served
// even before Invalidate drops it. The cache is bounded by entry count and by
// bytes (least recently used answers go first) and optionally by age.
package cache

import (
	"container/list"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Entry is a cached answer; the cache never looks inside it. Callers must not
// modify an Entry once stored, since every hit shares it.
type Entry = any

// Stats are the cache's counters since New and its current size.
type Stats struct {
	// Hits and Misses count Get (and GetOrCompute) lookups.
	Hits, Misses int64
	// Evictions counts answers dropped to stay within the entry and byte limits.
	Evictions int64
	// Expired counts answers dropped because they outlived the TTL.
	Expired int64
	// Invalidated counts answers dropped because the generation moved.
	Invalidated int64
	// Rejected counts answers not stored because they alone exceed the byte limit.
	Rejected int64
	// Computes counts GetOrCompute functions run (concurrent identical misses run one).
	Computes int64
	// Entries and Bytes are the current number and total size of answers.
	Entries int
	Bytes   int64
}

// item is one stored answer.
type item struct {
	key    string
	gen    int64
	value  Entry
	size   int64
	stored time.Time
}

// Cache is an LRU cache of query answers, safe for concurrent use.
type Cache struct {
	maxEntries int
	maxBytes   int64
	ttl        time.Duration
	now        func() time.Time // the clock; tests replace it

	mu    sync.Mutex
	lru   *list.List // of *item, most recently used at the front
	items map[string]*list.Element
	stats Stats

	flight singleflight.Group
}

// New returns a cache holding at most maxEntries answers of at most maxBytes
// in total, each for at most ttl. A limit of zero or less means none.
func New(maxEntries int, maxBytes int64, ttl time.Duration) *Cache {
	return &Cache{
		maxEntries: maxEntries,
		maxBytes:   maxBytes,
		ttl:        ttl,
		now:        time.Now,
		lru:        list.New(),
		items:      map[string]*list.Element{},
	}
}

// Get returns the answer stored for key at generation. An answer of an older
// generation is dropped; one older than the TTL is dropped too.
func (c *Cache) Get(key string, generation int64) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	it := el.Value.(*item)
	switch {
	case it.gen < generation:
		c.remove(el)
		c.stats.Invalidated++
	case it.gen > generation: // a reader still at an older generation: keep the newer answer
	case c.ttl > 0 && c.now().Sub(it.stored) >= c.ttl:
		c.remove(el)
		c.stats.Expired++
	default:
		c.lru.MoveToFront(el)
		c.stats.Hits++
		return it.value, true
	}
	c.stats.Misses++
	return nil, false
}

// Put stores e as the answer for key at generation; size is its approximate
// size in bytes. An answer larger than the byte limit is not stored, and an
// answer never replaces one of a newer generation. Least recently used
// answers are evicted to make room.
func (c *Cache) Put(key string, generation int64, e Entry, size int64) {
	size = max(size, 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		if el.Value.(*item).gen > generation {
			return
		}
		c.remove(el)
	}
	if c.maxBytes > 0 && size > c.maxBytes {
		c.stats.Rejected++
		return
	}
	c.items[key] = c.lru.PushFront(&item{key: key, gen: generation, value: e, size: size, stored: c.now()})
	c.stats.Entries++
	c.stats.Bytes += size
	for (c.maxEntries > 0 && c.stats.Entries > c.maxEntries) || (c.maxBytes > 0 && c.stats.Bytes > c.maxBytes) {
		c.remove(c.lru.Back())
		c.stats.Evictions++
	}
}

// Invalidate drops every answer computed at a generation older than generation.
func (c *Cache) Invalidate(generation int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*item).gen < generation {
			c.remove(el)
			c.stats.Invalidated++
		}
		el = next
	}
}

// Clear drops every answer (after metric definitions change, say).
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Invalidated += int64(c.stats.Entries)
	c.lru.Init()
	clear(c.items)
	c.stats.Entries, c.stats.Bytes = 0, 0
}

// remove unlinks one element; the caller holds mu.
func (c *Cache) remove(el *list.Element) {
	it := c.lru.Remove(el).(*item)
	delete(c.items, it.key)
	c.stats.Entries--
	c.stats.Bytes -= it.size
}

// Len is the number of stored answers.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats.Entries
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// GetOrCompute returns the answer for key at generation, computing it with fn
// on a miss and storing it (with the size fn reports) when fn succeeds;
// errors are not cached. Concurrent misses for the same key and generation
// share one run of fn, and a miss that joins after that run finished finds
// its stored answer. cached is true when this call did not run fn itself (a
// hit, or the answer of another caller's run). Waiting ends early with ctx's
// error when ctx is done; fn keeps running for the other waiters, so it
// should not depend on one caller's context alone. A panic in fn is returned
// as an error.
func (c *Cache) GetOrCompute(ctx context.Context, key string, generation int64, fn func() (Entry, int64, error)) (e Entry, cached bool, err error) {
	if e, ok := c.Get(key, generation); ok {
		return e, true, nil
	}
	ran := false
	ch := c.flight.DoChan(strconv.FormatInt(generation, 10)+"\x00"+key, func() (v any, err error) {
		if e, ok := c.peek(key, generation); ok {
			return e, nil
		}
		ran = true
		c.mu.Lock()
		c.stats.Computes++
		c.mu.Unlock()
		defer func() {
			if p := recover(); p != nil {
				v, err = nil, fmt.Errorf("cache: computing %q panicked: %v", key, p)
			}
		}()
		v, size, err := fn()
		if err == nil {
			c.Put(key, generation, v, size)
		}
		return v, err
	})
	select {
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case res := <-ch:
		return res.Val, !ran, res.Err
	}
}

// peek is Get without touching the counters or the LRU order.
func (c *Cache) peek(key string, generation int64) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	it := el.Value.(*item)
	if it.gen != generation || (c.ttl > 0 && c.now().Sub(it.stored) >= c.ttl) {
		return nil, false
	}
	return it.value, true
}
