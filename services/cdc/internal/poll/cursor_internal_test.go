package poll

import (
	"testing"
	"time"
)

func TestDedupAndPrune(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	c := &Cursor{TS: t0, Seen: []SeenKey{{"[1]", t0.Add(-time.Minute)}, {"[2]", t0}, {"[3]", t0.Add(-10 * time.Minute)}}}
	d := newDedup(c)
	floor := t0.Add(-5 * time.Minute)
	for _, tc := range []struct {
		key  string
		ts   time.Time
		want bool
	}{
		{"[1]", t0.Add(-time.Minute), true}, // same version
		{"[1]", t0.Add(-2 * time.Minute), true},
		{"[1]", t0.Add(time.Second), false}, // changed again
		{"[2]", t0, true},
		{"[4]", t0.Add(-time.Minute), false},    // late row inside the window
		{"[5]", t0.Add(-6 * time.Minute), true}, // below the window: emitted when current
	} {
		if got := d.duplicate(tc.key, tc.ts, floor); got != tc.want {
			t.Errorf("duplicate(%s, %v) = %v, want %v", tc.key, tc.ts, got, tc.want)
		}
	}
	if d.duplicate("[9]", time.Time{}.Add(time.Hour), time.Time{}) {
		t.Error("an empty cursor has no floor")
	}
	d.prune(c, floor, 0)
	if len(c.Seen) != 2 || c.Seen[0].Key != "[1]" || c.Seen[1].Key != "[2]" {
		t.Fatalf("pruned seen %v, want [1] then [2]", c.Seen)
	}
	d["[0]"] = t0
	d.prune(c, floor, 2)
	if len(c.Seen) != 2 || c.Seen[0].Key != "[0]" || c.Seen[1].Key != "[2]" || len(d) != 2 {
		t.Fatalf("capped seen %v (set %v), want the two newest", c.Seen, d)
	}
}

func TestPositionAdvance(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	p := Position{TS: t0}
	p.advance(t0, []any{int64(1)})
	p.advance(t0, []any{int64(2)})
	if p.Skip != 2 || p.Key[0] != int64(2) {
		t.Fatalf("at t0: %+v", p)
	}
	p.advance(t0.Add(time.Second), []any{int64(1)})
	p.advance(t0, []any{int64(9)}) // out of order: ignored
	if !p.TS.Equal(t0.Add(time.Second)) || p.Skip != 1 || p.Key[0] != int64(1) {
		t.Fatalf("after a later row: %+v", p)
	}
	if !p.same(Position{TS: t0.Add(time.Second), Skip: 1, Key: []any{int64(1)}}) {
		t.Fatal("same position not recognised")
	}
}
