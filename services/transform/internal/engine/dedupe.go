package engine

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// entry is the last row emitted for one unique_key.
type entry struct {
	hash    uint64 // hash of the row's Avro body
	version any    // normalized version_column value; nil without one
	at      int64  // when it was emitted, Unix milliseconds
}

// dedupe drops output rows that repeat the last row emitted for their
// unique_key within the window. It is used by one model loop at a time.
type dedupe struct {
	window  time.Duration
	last    map[string]entry
	pending map[string]entry // this batch's rows, merged on commit
	pruned  time.Time
}

func newDedupe(window time.Duration) *dedupe {
	return &dedupe{window: window, last: map[string]entry{}, pending: map[string]entry{}}
}

// enabled reports whether rows are de-duplicated at all.
func (d *dedupe) enabled() bool { return d != nil && d.window > 0 }

// duplicate reports whether e repeats the newest row seen for key within
// the window (the batch's own rows first); a row that is not a duplicate
// becomes the key's newest row once the batch commits.
func (d *dedupe) duplicate(key string, e entry) bool {
	prev, ok := d.pending[key]
	if !ok {
		prev, ok = d.last[key]
	}
	if ok && e.at-prev.at <= d.window.Milliseconds() {
		if e.version != nil && prev.version != nil {
			if compareVersions(e.version, prev.version) <= 0 {
				return true
			}
		} else if e.hash == prev.hash {
			return true
		}
	}
	d.pending[key] = e
	return false
}

// commit keeps the batch's rows; abort forgets them.
func (d *dedupe) commit(now time.Time) {
	for k, e := range d.pending {
		d.last[k] = e
	}
	clear(d.pending)
	if now.Sub(d.pruned) >= time.Minute {
		d.prune(now)
	}
}

func (d *dedupe) abort() { clear(d.pending) }

// load records a row read back from the output topic while recovering.
func (d *dedupe) load(key string, e entry) {
	if prev, ok := d.last[key]; ok && prev.at > e.at {
		return
	}
	d.last[key] = e
}

// prune forgets the keys whose last row is older than the window.
func (d *dedupe) prune(now time.Time) {
	d.pruned = now
	limit := now.Add(-d.window).UnixMilli()
	for k, e := range d.last {
		if e.at < limit {
			delete(d.last, k)
		}
	}
}

// size is the number of keys remembered.
func (d *dedupe) size() int {
	if d == nil {
		return 0
	}
	return len(d.last)
}

// normalizeVersion turns a version_column value, as DuckDB returns it or as
// goavro decodes it, into an int64, float64, string or *big.Rat.
func normalizeVersion(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any: // goavro union
		for _, inner := range x {
			return normalizeVersion(inner)
		}
		return nil
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return new(big.Rat).SetFrac(new(big.Int).SetUint64(x), big.NewInt(1))
	case float32:
		return float64(x)
	case float64:
		return x
	case time.Time:
		return x.UnixMicro()
	case *big.Rat:
		return x
	case *big.Int:
		return new(big.Rat).SetInt(x)
	case string:
		return x
	case []byte:
		return string(x)
	case interface{ Float64() float64 }: // decimals
		return x.Float64()
	default:
		return fmt.Sprint(x)
	}
}

// compareVersions orders two normalized versions (-1, 0, 1); values of
// different kinds compare as numbers when both are numeric, else as text.
func compareVersions(a, b any) int {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp3(x < y, x > y)
		case float64:
			return cmp3(float64(x) < y, float64(x) > y)
		case *big.Rat:
			return new(big.Rat).SetInt64(x).Cmp(y)
		}
	case float64:
		switch y := b.(type) {
		case int64:
			return cmp3(x < float64(y), x > float64(y))
		case float64:
			return cmp3(x < y, x > y)
		case *big.Rat:
			f, _ := y.Float64()
			return cmp3(x < f, x > f)
		}
	case *big.Rat:
		switch y := b.(type) {
		case int64:
			return x.Cmp(new(big.Rat).SetInt64(y))
		case float64:
			f, _ := x.Float64()
			return cmp3(f < y, f > y)
		case *big.Rat:
			return x.Cmp(y)
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func cmp3(less, more bool) int {
	switch {
	case less:
		return -1
	case more:
		return 1
	}
	return 0
}
