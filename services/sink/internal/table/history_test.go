package table_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// waitNextMilli makes the next snapshot's timestamp (milliseconds) differ from the last one's.
func waitNextMilli(t *testing.T, after time.Time) {
	t.Helper()
	for !time.Now().Truncate(time.Millisecond).After(after) {
		time.Sleep(time.Millisecond)
	}
}

func TestTimeTravel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	sc, _ := tb.Schema(ctx)
	var snaps []table.SnapshotInfo
	for i := range 3 {
		f := stage(t, e, schemaV1(), sc, 0, int64(i*10), rowsFor(i*10, 10, false), day1)
		s, err := tb.Commit(ctx, request([]table.StagedFile{f}, 0, int64(i*10), int64(i*10+10)))
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
		waitNextMilli(t, s.Timestamp)
	}
	if snaps[1].ParentID != snaps[0].ID || snaps[2].ParentID != snaps[1].ID || snaps[0].ParentID != 0 {
		t.Fatalf("lineage %+v", snaps)
	}
	for i, s := range snaps {
		rows, err := tb.Scan(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(t, rows); !slices.Equal(got, seqIDs(0, 10*(i+1))) {
			t.Fatalf("snapshot %d reads ids %v", i+1, got)
		}
	}
	mid := snaps[1].Timestamp.Add(snaps[2].Timestamp.Sub(snaps[1].Timestamp) / 2)
	if !mid.Before(snaps[2].Timestamp) {
		t.Fatalf("timestamps not apart: %v %v", snaps[1].Timestamp, snaps[2].Timestamp)
	}
	as, err := tb.SnapshotAsOf(ctx, mid)
	if err != nil || as.ID != snaps[1].ID {
		t.Fatalf("as of %v: %+v %v, want snapshot 2 (%d)", mid, as, err, snaps[1].ID)
	}
	if as, err := tb.SnapshotAsOf(ctx, snaps[2].Timestamp); err != nil || as.ID != snaps[2].ID {
		t.Fatalf("as of snapshot 3's own time: %+v %v", as, err)
	}
	if _, err := tb.SnapshotAsOf(ctx, snaps[0].Timestamp.Add(-time.Second)); !errors.Is(err, table.ErrNoSnapshot) {
		t.Fatalf("as of before the first commit: %v", err)
	}
	if _, err := tb.Scan(ctx, 12345); !errors.Is(err, table.ErrNoSnapshot) {
		t.Fatalf("scan of an unknown snapshot: %v", err)
	}
	list, err := tb.Snapshots(ctx)
	if err != nil || len(list) != 3 || list[0].ID != snaps[0].ID || list[2].ID != snaps[2].ID {
		t.Fatalf("snapshots %+v %v", list, err)
	}
}

func TestCompactAndExpire(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	sc, _ := tb.Schema(ctx)
	// Five small files on day 1, one on day 2.
	for i := range 5 {
		f := stage(t, e, schemaV1(), sc, 0, int64(i*10), rowsFor(i*10, 10, false), day1)
		if _, err := tb.Commit(ctx, request([]table.StagedFile{f}, 0, int64(i*10), int64(i*10+10))); err != nil {
			t.Fatal(err)
		}
	}
	f := stage(t, e, schemaV1(), sc, 1, 0, rowsFor(500, 10, false), day2)
	last, err := tb.Commit(ctx, request([]table.StagedFile{f}, 1, 0, 10))
	if err != nil {
		t.Fatal(err)
	}
	before, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	oldKeys := layoutKeys(t, e.store)

	// Compact day 1 into files of at most 3 inputs' size: two outputs (3 + 2 inputs).
	d, _ := tb.Describe(ctx)
	small := d.Partitions[0].Bytes / 5
	cs, err := tb.Compact(ctx, day1, 3*small+small/2)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Operation != "replace" || cs.ParentID != last.ID || cs.Summary[table.SummaryCompacted] != "5" {
		t.Fatalf("compaction snapshot %+v", cs)
	}
	if cs.Summary["riacho.offset."+topic+".0"] != "50" || cs.Summary["riacho.offset."+topic+".1"] != "10" {
		t.Fatalf("compaction dropped the offsets: %v", cs.Summary)
	}
	offs, _ := tb.Offsets(ctx, topic)
	if offs[0] != 50 || offs[1] != 10 {
		t.Fatalf("offsets after compaction %v", offs)
	}
	after, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRows(before, after) {
		t.Fatalf("compaction changed the rows:\n%v\n%v", before, after)
	}
	d, _ = tb.Describe(ctx)
	if d.Partitions[0].Files != 2 || d.Partitions[0].Records != 50 || d.Partitions[1].Files != 1 || d.Records != 60 {
		t.Fatalf("after compaction %+v", d.Partitions)
	}
	l := lake.Layout{}
	for _, seq := range []int{6, 7} {
		k := l.Path("raw", "ploomes", "leads", day1, seq)
		if ok, _ := e.store.Exists(ctx, k); !ok {
			t.Fatalf("compacted file %s missing", k)
		}
	}
	if got := len(readParquet(t, e.store, l.Path("raw", "ploomes", "leads", day1, 6))) + len(readParquet(t, e.store, l.Path("raw", "ploomes", "leads", day1, 7))); got != 50 {
		t.Fatalf("compacted files hold %d rows", got)
	}
	// The old snapshot still reads the old files.
	old, err := tb.Scan(ctx, last.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRows(before, old) {
		t.Fatal("the pre-compaction snapshot reads different rows")
	}
	// Nothing to compact (day 2 has one file): the current snapshot comes back unchanged.
	again, err := tb.Compact(ctx, day2, 1<<30)
	if err != nil || again.ID != cs.ID {
		t.Fatalf("second compaction: %+v %v", again, err)
	}
	// The next commit of day 1 continues after the compacted files.
	f = stage(t, e, schemaV1(), sc, 0, 50, rowsFor(50, 5, false), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{f}, 0, 50, 55)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.store.Exists(ctx, l.Path("raw", "ploomes", "leads", day1, 8)); !ok {
		t.Fatal("the commit after compaction did not take seq 008")
	}

	// Expire everything older than now: only the current snapshot stays, the five replaced
	// files are deleted, the others stay.
	snaps, _ := tb.Snapshots(ctx)
	removed, err := tb.Expire(ctx, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if removed != len(snaps)-1 {
		t.Fatalf("expired %d of %d snapshots", removed, len(snaps))
	}
	if left, _ := tb.Snapshots(ctx); len(left) != 1 {
		t.Fatalf("%d snapshots left", len(left))
	}
	for _, k := range oldKeys {
		info, _ := l.Parse(k)
		ok, _ := e.store.Exists(ctx, k)
		if info.Day.Equal(day1) && ok {
			t.Fatalf("replaced file %s survived expiry", k)
		}
		if info.Day.Equal(day2) && !ok {
			t.Fatalf("live file %s deleted", k)
		}
	}
	if _, err := tb.Scan(ctx, last.ID); !errors.Is(err, table.ErrNoSnapshot) {
		t.Fatalf("expired snapshot still scannable: %v", err)
	}
	rows, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, rows); !slices.Equal(got, append(seqIDs(0, 55), seqIDs(500, 10)...)) {
		t.Fatalf("after expiry %v", got)
	}
	// A retention in the past removes nothing.
	if n, err := tb.Expire(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("expire with nothing old: %d %v", n, err)
	}
}

// sameRows compares two scans as multisets.
func sameRows(a, b []map[string]any) bool {
	key := func(r map[string]any) string { return fmtRow(r) }
	count := map[string]int{}
	for _, r := range a {
		count[key(r)]++
	}
	for _, r := range b {
		count[key(r)]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}
