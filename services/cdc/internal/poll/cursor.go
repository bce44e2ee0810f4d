package poll

import (
	"slices"
	"time"
)

// Cursor is an entity's durable position, stored as JSON in the state store
// under "poll/<source>/<entity>" and written only after Kafka acknowledged
// every row it covers.
type Cursor struct {
	// TS is the greatest change time emitted (UTC); zero before the first row.
	TS time.Time `json:"ts"`
	// Key is the key (KeyString) of the last row emitted.
	Key string `json:"key,omitempty"`
	// Seen are the rows emitted whose change time is within the overlap
	// window below TS (at least those at exactly TS): a row read again with
	// the same key and a change time not after the one seen is a duplicate.
	Seen []SeenKey `json:"seen,omitempty"`
	// Backfilled is set once a poll reached the end of the entity; rows
	// emitted before are op "r", after it op "u".
	Backfilled bool `json:"backfilled"`
	// Rows counts the rows emitted under this cursor.
	Rows int64 `json:"rows"`
	// Saved is when the cursor was written.
	Saved time.Time `json:"saved"`
}

// SeenKey is one emitted row of the overlap window.
type SeenKey struct {
	Key string    `json:"k"`
	TS  time.Time `json:"t"`
}

// dedup is the in-memory form of a cursor's Seen set.
type dedup map[string]time.Time

func newDedup(c *Cursor) dedup {
	d := make(dedup, len(c.Seen))
	for _, s := range c.Seen {
		if t, ok := d[s.Key]; !ok || s.TS.After(t) {
			d[s.Key] = s.TS
		}
	}
	return d
}

// duplicate says whether the row (key, ts) was already emitted: its key was
// seen with a change time at or after ts, or ts is below the window floor
// (the source returned a row older than the overlap, which only coarse
// filters such as date-only ones do, and which was emitted when it was
// current).
func (d dedup) duplicate(key string, ts, floor time.Time) bool {
	if t, ok := d[key]; ok && !ts.After(t) {
		return true
	}
	return !floor.IsZero() && ts.Before(floor)
}

// prune drops the keys below floor and, beyond limit keys, the oldest, and
// writes the set into c.Seen sorted by time then key.
func (d dedup) prune(c *Cursor, floor time.Time, limit int) {
	for k, t := range d {
		if t.Before(floor) {
			delete(d, k)
		}
	}
	seen := make([]SeenKey, 0, len(d))
	for k, t := range d {
		seen = append(seen, SeenKey{Key: k, TS: t})
	}
	slices.SortFunc(seen, func(a, b SeenKey) int {
		if c := a.TS.Compare(b.TS); c != 0 {
			return c
		}
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	if limit > 0 && len(seen) > limit {
		for _, s := range seen[:len(seen)-limit] {
			delete(d, s.Key)
		}
		seen = seen[len(seen)-limit:]
	}
	c.Seen = seen
}

// advance moves a read position past one row read in (change time, key)
// order. A row older than the position (a source out of order) leaves it.
func (p *Position) advance(ts time.Time, key []any) {
	switch c := ts.Compare(p.TS); {
	case c > 0:
		p.TS, p.Skip, p.Key = ts, 1, key
	case c == 0:
		p.Skip++
		p.Key = key
	}
}

// same says whether two positions are equal.
func (p Position) same(q Position) bool {
	return p.TS.Equal(q.TS) && p.Skip == q.Skip && KeyString(p.Key) == KeyString(q.Key)
}
