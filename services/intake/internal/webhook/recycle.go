package webhook

import (
	"sync"
	"time"
)

// unionKind indexes the nullable union branches whose wrapper maps a recordArena reuses.
type unionKind int

// The reused union branches.
const (
	unionString unionKind = iota
	unionLong
	unionBoolean
	unionDouble
	unionTimeMicros
	numUnionKinds
)

// unionNames are the goavro branch names of the union kinds.
var unionNames = [numUnionKinds]string{"string", "long", "boolean", "double", "long.timestamp-micros"}

// recordArena owns one record's value map and the union wrapper maps set in it, so that once
// the record is encoded (ReleaseEvents) the next record of the same kind reuses them instead of
// allocating them again. A nil *recordArena allocates fresh maps, for parsers that do not opt in.
type recordArena struct {
	pool  *sync.Pool
	rec   map[string]any
	wraps [numUnionKinds][]map[string]any
	used  [numUnionKinds]int
}

// arenaPool is a pool of arenas whose value maps hold size fields.
type arenaPool struct{ sync.Pool }

func newArenaPool(size int) *arenaPool {
	p := &arenaPool{}
	p.New = func() any { return &recordArena{pool: &p.Pool, rec: make(map[string]any, size)} }
	return p
}

// get returns an arena with an empty value map and no wrapper in use.
func (p *arenaPool) get() *recordArena { return p.Get().(*recordArena) }

// Arenas of the record kinds whose parsers opt in to recycling (sized like their schemas).
var (
	waMessageArenas = newArenaPool(46)
	waStatusArenas  = newArenaPool(24)
	waEventArenas   = newArenaPool(9)
)

// record starts the arena's value map (a fresh one without an arena) like newRecord.
func (a *recordArena) record(size int, id, source, entity string, receivedAt, eventTime time.Time, payload string) map[string]any {
	if a == nil {
		m := make(map[string]any, size)
		setCommon(m, id, source, entity, receivedAt, eventTime, payload)
		return m
	}
	setCommon(a.rec, id, source, entity, receivedAt, eventTime, payload)
	return a.rec
}

// union returns the wrapper map {name: v} of kind k, reusing one of the arena's.
func (a *recordArena) union(k unionKind, v any) map[string]any {
	if a == nil {
		return map[string]any{unionNames[k]: v}
	}
	i := a.used[k]
	a.used[k]++
	if i < len(a.wraps[k]) {
		m := a.wraps[k][i]
		m[unionNames[k]] = v
		return m
	}
	m := map[string]any{unionNames[k]: v}
	a.wraps[k] = append(a.wraps[k], m)
	return m
}

// optString is a nullable string union value; the empty string is null.
func (a *recordArena) optString(s string) any {
	if s == "" {
		return nil
	}
	return a.union(unionString, s)
}

// optRaw is a nullable string union value holding raw JSON bytes; empty or JSON null is null.
func (a *recordArena) optRaw(b []byte) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return a.union(unionString, string(b))
}

// optLong is a nullable long union value.
func (a *recordArena) optLong(v int64, ok bool) any {
	if !ok {
		return nil
	}
	return a.union(unionLong, v)
}

// optBool is a nullable boolean union value.
func (a *recordArena) optBool(v *bool) any {
	if v == nil {
		return nil
	}
	return a.union(unionBoolean, *v)
}

// optDouble is a nullable double union value.
func (a *recordArena) optDouble(v float64, ok bool) any {
	if !ok {
		return nil
	}
	return a.union(unionDouble, v)
}

// optTime is a nullable timestamp-micros union value; the zero time is null.
func (a *recordArena) optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return a.union(unionTimeMicros, t)
}

// release empties the arena's maps, dropping every value they referenced, and returns it to
// its pool.
func (a *recordArena) release() {
	for k := range a.wraps {
		for _, m := range a.wraps[k][:a.used[k]] {
			m[unionNames[k]] = nil
		}
		a.used[k] = 0
	}
	clear(a.rec)
	a.pool.Put(a)
}

// ReleaseEvents hands the value maps of events back for reuse by later parses, once nothing
// reads them any more (for example right after they were Avro-encoded: the encoded bytes do not
// reference them). Only events of parsers that opt in (ParseWhatsApp) are recycled; the others
// are left alone. Each released event's Value is set to nil; the caller must not keep other
// copies of these events or their Value maps, nor release them twice through such copies.
func ReleaseEvents(events []Event) {
	for i := range events {
		ev := &events[i]
		if a := ev.arena; a != nil {
			ev.arena, ev.Value = nil, nil
			a.release()
		}
	}
}
