package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/sink/internal/lake/laketest"
)

// TestSchemaEvolutionMidStream switches a partition to a new writer schema
// (a field added) and back to the old one: each switch commits the open
// files, the table's schema gains the field, and both DuckDB over every file
// and an Iceberg scan read old and new rows together.
func TestSchemaEvolutionMidStream(t *testing.T) {
	h := newHarness(t, "")
	const topic = "raw.evo.leads"
	h.createTopic(topic, 1)
	v1 := h.encoder(topic, leadSchema)
	v2 := h.encoder(topic, leadSchemaV2)
	if v1.ID() == v2.ID() {
		t.Fatal("the registry gave both schemas one id")
	}
	var recs []*kgo.Record
	recs = append(recs, leadRecords(t, v1, topic, 0, 0, 50)...)
	for seq := int64(50); seq < 100; seq++ {
		native := lead(0, seq)
		native["score"] = goavro.Union("double", float64(seq)/2)
		v, err := v2.Encode(native)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Value: v})
	}
	recs = append(recs, leadRecords(t, v1, topic, 0, 100, 20)...) // an old producer again
	h.produce(recs...)
	r := h.start(h.engine(Config{RotateRecords: 1_000_000, RotateInterval: 2 * time.Second}))
	h.waitCommitted(topic, h.endOffsets(topic), 60*time.Second)
	r.stop(t)

	ctx := context.Background()
	tb, err := h.cat.Table(ctx, "raw_evo", "leads", nil)
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := tb.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 3 {
		t.Errorf("%d snapshots, want 3 (one per writer schema run)", len(snaps))
	}
	sc, err := tb.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.FindFieldByName("score"); !ok {
		t.Errorf("the table's schema lacks the added field: %s", sc)
	}
	got := duck(t, h.localLake("raw/"), `SELECT count(*), count(DISTINCT seq), count(score), sum(score), min(seq) FILTER (WHERE score IS NOT NULL), max(seq) FILTER (WHERE score IS NOT NULL)
		FROM read_parquet('{lake}/raw/**/*.parquet', union_by_name=true)`)
	if want := []string{"120", "120", "50", fmt.Sprint(float64(50+99) * 50 / 2 / 2), "50", "99"}; !slices.Equal(got[0], want) {
		t.Errorf("duckdb over old and new files: %v, want %v", got[0], want)
	}
	rows, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	withScore := 0
	for _, r := range rows {
		seq := toInt(r["seq"])
		switch s := r["score"]; {
		case s == nil && (seq < 50 || seq >= 100):
		case s != nil && seq >= 50 && seq < 100 && s.(float64) == float64(seq)/2:
			withScore++
		default:
			t.Errorf("iceberg row seq %d has score %v", seq, s)
		}
	}
	if len(rows) != 120 || withScore != 50 {
		t.Errorf("iceberg scan: %d rows, %d with score; want 120 and 50", len(rows), withScore)
	}
	// Time travel: the first snapshot holds only the first 50 rows.
	first, err := tb.Scan(ctx, snaps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 50 {
		t.Errorf("snapshot %d has %d rows, want 50", snaps[0].ID, len(first))
	}
}

// TestLakeOnS3 writes through the S3 API (an in-process S3 server on
// loopback) and reads the objects back with DuckDB and an Iceberg scan.
func TestLakeOnS3(t *testing.T) {
	s3 := laketest.NewS3(t)
	h := newHarness(t, s3.URL())
	const topic = "raw.whatsapp.messages"
	h.createTopic(topic, 2)
	enc := h.encoder(topic, leadSchema)
	for p := int32(0); p < 2; p++ {
		h.produce(leadRecords(t, enc, topic, p, 0, 300)...)
	}
	r := h.start(h.engine(Config{RotateRecords: 250}))
	h.waitCommitted(topic, h.endOffsets(topic), 60*time.Second)
	r.stop(t)

	files := h.lakeFiles("raw/whatsapp/")
	if !slices.Contains(files, "raw/whatsapp/year=2024/month=01/day=15/messages_20240115_001.parquet") {
		t.Errorf("objects %v lack the first file of the 15th", files)
	}
	got := duck(t, h.localLake("raw/"), fmt.Sprintf(partitionSums, "raw"))
	if want := expectPartitions(map[int32]int64{0: 300, 1: 300}); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("duckdb %v, want %v", got, want)
	}
	if s3.Count(laketest.OpCopy) == 0 {
		t.Errorf("no server-side copy: staged files were not moved through S3")
	}
	tb, err := h.cat.Table(context.Background(), "raw_whatsapp", "messages", nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tb.Scan(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 600 {
		t.Errorf("iceberg scan over S3: %d rows, want 600", len(rows))
	}
}
