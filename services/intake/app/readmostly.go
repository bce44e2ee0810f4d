package app

import (
	"maps"
	"sync"
	"sync/atomic"
)

// readMostly is a map read on every request and written rarely (once per new key). A read is
// one atomic load, writing nothing to memory shared between cores (a RWMutex's read lock does);
// a write copies the map.
type readMostly[K comparable, V any] struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[K]V]
}

// get returns the value of k, if any.
func (r *readMostly[K, V]) get(k K) (V, bool) {
	if m := r.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// getOrAdd returns the value of k, storing make() as it first when k has none.
func (r *readMostly[K, V]) getOrAdd(k K, make func() V) V {
	if v, ok := r.get(k); ok {
		return v
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.get(k); ok {
		return v
	}
	v := make()
	r.put(k, v)
	return v
}

// put stores v as the value of k. The caller holds r.mu.
func (r *readMostly[K, V]) put(k K, v V) {
	var next map[K]V
	if m := r.m.Load(); m != nil {
		next = maps.Clone(*m)
	} else {
		next = make(map[K]V, 1)
	}
	next[k] = v
	r.m.Store(&next)
}

// set stores v as the value of k.
func (r *readMostly[K, V]) set(k K, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(k, v)
}
