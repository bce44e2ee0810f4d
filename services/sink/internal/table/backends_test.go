package table_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/pgtest"

	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/lake/laketest"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// Two sink replicas share a catalog and a lake: their commits to one table are serialised by the
// cross-process lock (PostgreSQL advisory lock; flock for SQLite), so sequence numbers never
// collide and no commit conflicts.
func TestTwoReplicas(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testTwoReplicas(t, pgtest.NewDatabase(t)) })
	t.Run("sqlite", func(t *testing.T) { testTwoReplicas(t, "sqlite://"+filepath.Join(t.TempDir(), "catalog.db")) })
}

func testTwoReplicas(t *testing.T, catalogURI string) {
	ctx := context.Background()
	store, err := lake.Open(ctx, "file://"+filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var replicas []*table.Catalog
	for range 2 {
		c, err := table.OpenCatalog(ctx, catalogURI, store.URL(), store)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		replicas = append(replicas, c)
	}
	e := env{store: store, cat: replicas[0]}
	tb := e.table(t, schemaV1())
	sc, _ := tb.Schema(ctx)

	const commits, per = 3, 4
	var wg sync.WaitGroup
	errs := make(chan error, 4*commits)
	for r, c := range replicas {
		for _, p := range []int32{int32(2 * r), int32(2*r + 1)} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine, err := c.Table(ctx, "raw_ploomes", "leads", nil)
				if err != nil {
					errs <- err
					return
				}
				for i := range commits {
					first := int64(i * per)
					f := stage(t, e, schemaV1(), sc, p, first, rowsFor(int(p)*100+i*per, per, false), day1)
					if _, err := mine.Commit(ctx, request([]table.StagedFile{f}, p, first, first+per)); err != nil {
						errs <- fmt.Errorf("replica %d partition %d: %w", r, p, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	keys := layoutKeys(t, store)
	if len(keys) != 4*commits {
		t.Fatalf("%d files:\n%s", len(keys), join(keys))
	}
	for i, k := range keys {
		if want := (lake.Layout{}).Path("raw", "ploomes", "leads", day1, i+1); k != want {
			t.Fatalf("file %d = %s, want %s", i, k, want)
		}
	}
	other, err := replicas[1].Table(ctx, "raw_ploomes", "leads", nil)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := other.Offsets(ctx, topic)
	if err != nil || len(offs) != 4 {
		t.Fatalf("offsets %v %v", offs, err)
	}
	for p, o := range offs {
		if o != commits*per {
			t.Fatalf("partition %d at %d", p, o)
		}
	}
	rows, err := other.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4*commits*per {
		t.Fatalf("%d rows", len(rows))
	}
	names, err := replicas[1].Tables(ctx)
	if err != nil || join(names) != "raw_ploomes.leads" {
		t.Fatalf("tables %v %v", names, err)
	}
}

// The whole table — data files and Iceberg metadata — on an S3 server on loopback, read back by
// iceberg-go's own S3 FileIO.
func TestS3Warehouse(t *testing.T) {
	ctx := context.Background()
	fake := laketest.NewS3(t)
	store, err := lake.Open(ctx, fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cat, err := table.OpenCatalog(ctx, "sqlite://"+filepath.Join(t.TempDir(), "catalog.db"), fake.URL(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	e := env{store: store, cat: cat}
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
	}
	if fake.Count(laketest.OpCopy) < 3 {
		t.Fatalf("staged files were not copied server-side (%d copies)", fake.Count(laketest.OpCopy))
	}
	loc, err := tb.Location(ctx)
	if err != nil || loc != "s3://"+fake.Bucket+"/_iceberg/raw_ploomes/leads" {
		t.Fatalf("location %q %v", loc, err)
	}
	meta, err := store.List(ctx, "_iceberg/raw_ploomes/leads/metadata/")
	if err != nil || len(meta) == 0 {
		t.Fatalf("no metadata in the bucket: %v", err)
	}
	var jsons int
	for _, o := range meta {
		if strings.HasSuffix(o.Key, ".metadata.json") {
			jsons++
		}
	}
	if jsons == 0 {
		t.Fatalf("no metadata JSON among %d objects", len(meta))
	}
	rows, err := tb.Scan(ctx, snaps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, rows); !slices.Equal(got, seqIDs(0, 10)) {
		t.Fatalf("snapshot 1 ids %v", got)
	}
	cs, err := tb.Compact(ctx, day1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = tb.Scan(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, rows); !slices.Equal(got, seqIDs(0, 30)) {
		t.Fatalf("compacted ids %v", got)
	}
	if n, err := tb.Expire(ctx, time.Now().Add(time.Second)); err != nil || n != 3 {
		t.Fatalf("expire: %d %v", n, err)
	}
	keys := layoutKeys(t, store)
	if want := (lake.Layout{}).Path("raw", "ploomes", "leads", day1, 4); join(keys) != want {
		t.Fatalf("layout after compaction and expiry:\n%s", join(keys))
	}
	if got := stagedKeys(t, store); len(got) != 0 {
		t.Fatalf("staged files left: %v", got)
	}
}
