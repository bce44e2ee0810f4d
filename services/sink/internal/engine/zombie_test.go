package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/riacho/riacho/services/sink/internal/table"
)

// TestCommitRefusedAsAlreadyCommitted has another owner commit part of a
// range the engine holds open (as a zombie owner's late commit would): the
// engine's commit is refused, its files dropped, and it reads on from the
// offset the table records, so nothing is written twice.
func TestCommitRefusedAsAlreadyCommitted(t *testing.T) {
	h := newHarness(t, "")
	const topic = "raw.zombie.leads"
	h.createTopic(topic, 1)
	enc := h.encoder(topic, leadSchema)
	h.produce(leadRecords(t, enc, topic, 0, 0, 100)...)
	r := h.start(h.engine(Config{RotateRecords: 1_000_000, RotateInterval: 3 * time.Second}))
	waitFor(t, 30*time.Second, "the engine to hold 100 records open", func() bool {
		st := r.e.Status()
		return len(st.Partitions) == 1 && st.Partitions[0].PendingRecords == 100
	})
	// The other owner commits offsets 0..39 (its files are not the point here).
	ctx := context.Background()
	tb, err := h.cat.Table(ctx, "raw_zombie", "leads", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Commit(ctx, table.CommitRequest{Topic: topic, Zone: "raw", Source: "zombie", Entity: "leads",
		Start: map[int32]int64{0: 0}, Next: map[int32]int64{0: 40}}); err != nil {
		t.Fatal(err)
	}
	h.produce(leadRecords(t, enc, topic, 0, 100, 20)...)
	h.waitCommitted(topic, map[int32]int64{0: 120}, 60*time.Second)
	r.stop(t)

	got := duck(t, h.localLake("raw/"), `SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM read_parquet('{lake}/raw/**/*.parquet')`)
	if want := []string{"80", "80", "40", "119"}; !slices.Equal(got[0], want) {
		t.Errorf("lake holds (count, distinct, min, max) %v, want %v", got[0], want)
	}
	if n := sumCounter(r.e.metrics.abandons); n != 1 {
		t.Errorf("%v ranges abandoned, want 1", n)
	}
	if got := fmt.Sprint(h.lakeFiles("_staging/")); got != "[]" {
		t.Errorf("staged files left: %s", got)
	}
}
