package table_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

func TestCommitOffsetsAndLayout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	sc, err := tb.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if offs, err := tb.Offsets(ctx, topic); err != nil || len(offs) != 0 {
		t.Fatalf("offsets of a new table: %v %v", offs, err)
	}

	// Partition 0: records 0..9 on day 1 and 10..19 on day 2, one commit.
	f1 := stage(t, e, schemaV1(), sc, 0, 0, rowsFor(0, 10, false), day1)
	f2 := stage(t, e, schemaV1(), sc, 0, 10, rowsFor(10, 10, false), day2)
	s1, err := tb.Commit(ctx, request([]table.StagedFile{f1, f2}, 0, 0, 20))
	if err != nil {
		t.Fatal(err)
	}
	if s1.Operation != "append" || s1.Files != 2 || s1.Records != 20 || s1.Summary["riacho.offset."+topic+".0"] != "20" || s1.Summary[table.SummaryRecords] != "20" {
		t.Fatalf("snapshot 1: %+v", s1)
	}
	want := []string{
		"raw/ploomes/year=2024/month=01/day=15/leads_20240115_001.parquet",
		"raw/ploomes/year=2024/month=01/day=16/leads_20240116_001.parquet",
	}
	if got := layoutKeys(t, e.store); join(got) != join(want) {
		t.Fatalf("layout after commit 1:\n%s", join(got))
	}
	if got := stagedKeys(t, e.store); len(got) != 0 {
		t.Fatalf("staged files left: %v", got)
	}
	// The committed file holds exactly the staged rows (read with parquet-go, not Iceberg).
	if got := readParquet(t, e.store, want[0]); len(got) != 10 || got[3]["name"] != nil || got[4]["name"] != "lead 4" {
		t.Fatalf("file content: %v", got)
	}

	// A second commit on day 1 takes seq 002; partition 1 commits independently.
	f3 := stage(t, e, schemaV1(), sc, 0, 20, rowsFor(20, 5, false), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{f3}, 0, 20, 25)); err != nil {
		t.Fatal(err)
	}
	f4 := stage(t, e, schemaV1(), sc, 1, 0, rowsFor(100, 7, false), day1)
	s3, err := tb.Commit(ctx, request([]table.StagedFile{f4}, 1, 0, 7))
	if err != nil {
		t.Fatal(err)
	}
	if s3.Summary["riacho.offset."+topic+".0"] != "25" {
		t.Fatalf("partition 0's offset not carried forward: %v", s3.Summary)
	}
	offs, err := tb.Offsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(offs) != 2 || offs[0] != 25 || offs[1] != 7 {
		t.Fatalf("offsets %v", offs)
	}
	if other, _ := tb.Offsets(ctx, "raw.ploomes.deals"); len(other) != 0 {
		t.Fatalf("offsets of another topic: %v", other)
	}
	want = append(want[:1], "raw/ploomes/year=2024/month=01/day=15/leads_20240115_002.parquet",
		"raw/ploomes/year=2024/month=01/day=15/leads_20240115_003.parquet", want[1])
	slices.Sort(want)
	if got := layoutKeys(t, e.store); join(got) != join(want) {
		t.Fatalf("layout after 3 commits:\n%s", join(got))
	}

	// Stale start: another owner already committed 20..24 → ErrAlreadyCommitted, nothing added,
	// the staged file is dropped.
	before, _ := tb.Snapshots(ctx)
	stale := stage(t, e, schemaV1(), sc, 0, 20, rowsFor(20, 5, false), day1)
	_, err = tb.Commit(ctx, request([]table.StagedFile{stale}, 0, 20, 25))
	if !errors.Is(err, table.ErrAlreadyCommitted) {
		t.Fatalf("stale commit: %v", err)
	}
	after, _ := tb.Snapshots(ctx)
	if len(after) != len(before) {
		t.Fatalf("a stale commit added a snapshot")
	}
	if got := layoutKeys(t, e.store); join(got) != join(want) {
		t.Fatalf("a stale commit wrote files:\n%s", join(got))
	}
	if got := stagedKeys(t, e.store); len(got) != 0 {
		t.Fatalf("stale staged file kept: %v", got)
	}

	// Gap: records 25..29 never committed.
	gap := stage(t, e, schemaV1(), sc, 0, 30, rowsFor(30, 5, false), day1)
	_, err = tb.Commit(ctx, request([]table.StagedFile{gap}, 0, 30, 35))
	if !errors.Is(err, table.ErrGap) {
		t.Fatalf("gap commit: %v", err)
	}
	if got := stagedKeys(t, e.store); len(got) != 1 {
		t.Fatalf("gap staged file should stay for the caller: %v", got)
	}
	if after, _ := tb.Snapshots(ctx); len(after) != len(before) {
		t.Fatalf("a gap commit added a snapshot")
	}

	// An offsets-only commit (every record went to the dead-letter queue).
	if _, err := tb.Commit(ctx, request(nil, 1, 7, 9)); err != nil {
		t.Fatal(err)
	}
	if offs, _ := tb.Offsets(ctx, topic); offs[1] != 9 || offs[0] != 25 {
		t.Fatalf("offsets after an empty commit: %v", offs)
	}

	// Iceberg reads exactly the committed rows.
	rows, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := append(seqIDs(0, 25), seqIDs(100, 7)...)
	if got := ids(t, rows); !slices.Equal(got, wantIDs) {
		t.Fatalf("scan ids %v", got)
	}
	for _, r := range rows {
		if r["id"].(int64)%7 == 3 && r["name"] != nil {
			t.Fatalf("null lost: %v", r)
		}
	}

	d, err := tb.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Files != 4 || d.Records != 32 || d.Bytes <= 0 || len(d.Partitions) != 2 {
		t.Fatalf("describe %+v", d)
	}
	if !d.Partitions[0].Day.Equal(day1) || d.Partitions[0].Files != 3 || d.Partitions[0].Records != 22 ||
		!d.Partitions[1].Day.Equal(day2) || d.Partitions[1].Files != 1 || d.Partitions[1].Records != 10 {
		t.Fatalf("partitions %+v", d.Partitions)
	}
	if d.Properties["riacho.layout"] != lake.DefaultTemplate {
		t.Fatalf("layout property %q", d.Properties["riacho.layout"])
	}
	names, err := e.cat.Tables(ctx)
	if err != nil || join(names) != "raw_ploomes.leads" {
		t.Fatalf("tables %v %v", names, err)
	}
}

func TestCommitValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	sc, _ := tb.Schema(ctx)
	f := stage(t, e, schemaV1(), sc, 0, 0, rowsFor(0, 3, false), day1)
	bad := []table.CommitRequest{
		{Topic: "", Zone: "raw", Source: "ploomes", Entity: "leads", Files: []table.StagedFile{f}, Start: map[int32]int64{0: 0}, Next: map[int32]int64{0: 3}},
		{Topic: topic, Zone: "raw", Source: "plo/omes", Entity: "leads", Files: []table.StagedFile{f}, Start: map[int32]int64{0: 0}, Next: map[int32]int64{0: 3}},
		{Topic: topic, Zone: "raw", Source: "ploomes", Entity: "leads", Files: []table.StagedFile{f}, Start: map[int32]int64{0: 5}, Next: map[int32]int64{0: 3}},
		{Topic: topic, Zone: "raw", Source: "ploomes", Entity: "leads", Files: []table.StagedFile{f}, Start: map[int32]int64{0: 0}, Next: map[int32]int64{1: 3}},
		{Topic: topic, Zone: "raw", Source: "ploomes", Entity: "leads", Files: []table.StagedFile{f, f}, Start: map[int32]int64{0: 0}, Next: map[int32]int64{0: 3}},
		{Topic: topic, Zone: "raw", Source: "ploomes", Entity: "leads", Files: []table.StagedFile{{Key: f.Key, Day: day1, Records: 4}}, Start: map[int32]int64{0: 0}, Next: map[int32]int64{0: 3}},
		{Topic: topic, Zone: "raw", Source: "ploomes", Entity: "leads", Files: []table.StagedFile{{Key: "_staging/missing.parquet", Day: day1}}, Start: map[int32]int64{0: 0}, Next: map[int32]int64{0: 3}},
	}
	for i, req := range bad {
		if _, err := tb.Commit(ctx, req); err == nil {
			t.Errorf("request %d accepted", i)
		}
	}
	if snaps, _ := tb.Snapshots(ctx); len(snaps) != 0 {
		t.Fatalf("rejected requests made snapshots: %d", len(snaps))
	}
	if got := layoutKeys(t, e.store); len(got) != 0 {
		t.Fatalf("rejected requests wrote files: %v", got)
	}
	if _, err := e.cat.Table(ctx, "raw_ploomes", "missing", nil); !errors.Is(err, table.ErrNoSuchTable) {
		t.Fatalf("loading a missing table: %v", err)
	}
}

// Goroutines committing different partitions of one table never get the same sequence number.
func TestConcurrentCommitsNeverCollide(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	sc, _ := tb.Schema(ctx)
	const parts, commits, per = 4, 3, 5
	var wg sync.WaitGroup
	errs := make(chan error, parts*commits)
	for p := range int32(parts) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A second Table value for the same table, as another engine goroutine would hold.
			mine, err := e.cat.Table(ctx, "raw_ploomes", "leads", nil)
			if err != nil {
				errs <- err
				return
			}
			for c := range commits {
				first := int64(c * per)
				f := stage(t, e, schemaV1(), sc, p, first, rowsFor(int(p)*1000+c*per, per, false), day1)
				if _, err := mine.Commit(ctx, request([]table.StagedFile{f}, p, first, first+per)); err != nil {
					errs <- fmt.Errorf("partition %d commit %d: %w", p, c, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	keys := layoutKeys(t, e.store)
	if len(keys) != parts*commits {
		t.Fatalf("%d files, want %d:\n%s", len(keys), parts*commits, join(keys))
	}
	for i, k := range keys {
		want := lake.Layout{}.Path("raw", "ploomes", "leads", day1, i+1)
		if k != want {
			t.Fatalf("file %d is %s, want %s", i, k, want)
		}
	}
	offs, _ := tb.Offsets(ctx, topic)
	for p := range int32(parts) {
		if offs[p] != commits*per {
			t.Fatalf("offsets %v", offs)
		}
	}
	rows, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for p := range parts {
		want = append(want, seqIDs(p*1000, commits*per)...)
	}
	if got := ids(t, rows); !slices.Equal(got, want) {
		t.Fatalf("scan ids %v", got)
	}
}

// A commit that crashed after copying its files to their final paths, before the catalog commit,
// leaves the table as it was; the next commit reuses (overwrites) the sequence numbers and removes
// the leftovers it does not reuse, so neither the table nor the layout holds a record twice.
func TestCrashBeforeCatalogCommit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	sc, _ := tb.Schema(ctx)
	a := stage(t, e, schemaV1(), sc, 0, 0, rowsFor(0, 10, false), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{a}, 0, 0, 10)); err != nil {
		t.Fatal(err)
	}

	// The crashed commit: staged files for 10..19 and 20..29, both copied to seq 002 and 003.
	b := stage(t, e, schemaV1(), sc, 0, 10, rowsFor(10, 10, false), day1)
	c := stage(t, e, schemaV1(), sc, 0, 20, rowsFor(20, 10, false), day1)
	l := lake.Layout{}
	if err := e.store.Copy(ctx, l.Path("raw", "ploomes", "leads", day1, 2), b.Key); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Copy(ctx, l.Path("raw", "ploomes", "leads", day1, 3), c.Key); err != nil {
		t.Fatal(err)
	}
	snaps, _ := tb.Snapshots(ctx)
	if len(snaps) != 1 {
		t.Fatal("the crashed commit must not be visible")
	}

	// The new owner re-reads 10..24 (its batch ends elsewhere) and commits one file.
	b2 := stage(t, e, schemaV1(), sc, 0, 10, rowsFor(10, 15, false), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{b2}, 0, 10, 25)); err != nil {
		t.Fatal(err)
	}
	keys := layoutKeys(t, e.store)
	want := []string{l.Path("raw", "ploomes", "leads", day1, 1), l.Path("raw", "ploomes", "leads", day1, 2)}
	if join(keys) != join(want) {
		t.Fatalf("layout after recovery:\n%s", join(keys))
	}
	if got := readParquet(t, e.store, want[1]); len(got) != 15 {
		t.Fatalf("seq 002 holds %d rows, want the new commit's 15", len(got))
	}
	rows, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, rows); !slices.Equal(got, seqIDs(0, 25)) {
		t.Fatalf("scan ids %v", got)
	}
	// The crashed commit's staged files were not part of the new commit: the caller's recovery
	// finds them stale.
	_, err = tb.Commit(ctx, request([]table.StagedFile{c}, 0, 20, 30))
	if !errors.Is(err, table.ErrAlreadyCommitted) {
		t.Fatalf("leftover staged file: %v", err)
	}
}

// BenchmarkCommit measures one commit of one staged 1000-row file (file:// lake, SQLite catalog),
// the per-file cost the sink pays on rotation.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	e := newEnvB(b)
	tb, err := e.cat.Table(ctx, "raw_ploomes", "leads", schemaV1())
	if err != nil {
		b.Fatal(err)
	}
	sc, _ := tb.Schema(ctx)
	rows := rowsFor(0, 1000, false)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		first := int64(i * 1000)
		key := lake.StagingKey(topic, 0, first, first+999, day1)
		writeParquet(b, e.store, key, schemaV1(), sc, rows)
		b.StartTimer()
		f := table.StagedFile{Key: key, Day: day1, Records: 1000}
		if _, err := tb.Commit(ctx, request([]table.StagedFile{f}, 0, first, first+1000)); err != nil {
			b.Fatal(err)
		}
	}
}
