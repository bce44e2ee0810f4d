package engine

import (
	"errors"
	"math/big"
	"testing"
	"time"
)

func TestDedupeByRow(t *testing.T) {
	d := newDedupe(time.Hour)
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC).UnixMilli()
	steps := []struct {
		key  string
		hash uint64
		at   int64
		dup  bool
	}{
		{"1", 10, at, false},
		{"1", 10, at + 1, true},                             // a re-delivery
		{"2", 10, at + 2, false},                            // another key
		{"1", 11, at + 3, false},                            // a real change
		{"1", 10, at + 4, false},                            // changed back: the last row differs
		{"1", 10, at + 5 + time.Hour.Milliseconds(), false}, // outside the window
	}
	for i, s := range steps {
		if got := d.duplicate(s.key, entry{hash: s.hash, at: s.at}); got != s.dup {
			t.Errorf("step %d (%s, %d): duplicate %v, want %v", i, s.key, s.hash, got, s.dup)
		}
	}
	d.abort()
	if d.duplicate("1", entry{hash: 10, at: at + 1}) {
		t.Error("an aborted batch's rows must not count")
	}
	d.commit(time.UnixMilli(at + 1))
	if !d.duplicate("1", entry{hash: 10, at: at + 2}) {
		t.Error("a committed row must count")
	}
}

func TestDedupeByVersion(t *testing.T) {
	d := newDedupe(time.Hour)
	rows := []struct {
		version any
		dup     bool
	}{
		{int64(5), false},
		{int64(5), true},
		{int64(4), true}, // a replay of an older change
		{float64(6.5), false},
		{new(big.Rat).SetInt64(6), true},
		{time.UnixMicro(7).UTC(), false}, // normalized to 7
	}
	for i, r := range rows {
		if got := d.duplicate("k", entry{hash: uint64(i), version: normalizeVersion(r.version), at: int64(i)}); got != r.dup {
			t.Errorf("row %d (version %v): duplicate %v, want %v", i, r.version, got, r.dup)
		}
	}
}

func TestDedupeLoadKeepsTheNewest(t *testing.T) {
	d := newDedupe(time.Hour)
	d.load("k", entry{hash: 2, at: 20})
	d.load("k", entry{hash: 1, at: 10})
	if !d.duplicate("k", entry{hash: 2, at: 30}) || d.size() != 1 {
		t.Errorf("the newest loaded row must win")
	}
	d.commit(time.UnixMilli(0))
	d.prune(time.UnixMilli(30).Add(2 * time.Hour))
	if d.size() != 0 {
		t.Errorf("%d keys after pruning past the window", d.size())
	}
}

func TestRowKey(t *testing.T) {
	row := []any{int64(7), "a", nil, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, tc := range []struct {
		cols []int
		want string
		err  bool
	}{
		{[]int{0}, "7", false},
		{[]int{1}, "a", false},
		{[]int{0, 1}, `["7","a"]`, false},
		{[]int{3}, "2026-01-02T03:04:05Z", false},
		{[]int{2}, "", true},
		{[]int{0, 2}, "", true},
	} {
		got, err := rowKey(row, tc.cols)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("rowKey(%v) = %q, %v; want %q (error %v)", tc.cols, got, err, tc.want, tc.err)
		}
	}
}

func TestIsDataError(t *testing.T) {
	for msg, want := range map[string]bool{
		`Conversion Error: Could not convert string "x" to INT64`: true,
		"Out of Range Error: overflow":                            true,
		`Binder Error: Referenced column "nope" not found`:        false,
		"Out of Memory Error: failed to allocate":                 false,
	} {
		if got := isDataError(errors.New(msg)); got != want {
			t.Errorf("isDataError(%q) = %v, want %v", msg, got, want)
		}
	}
}
