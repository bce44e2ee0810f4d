package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
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

// TestIncompatibleSchemaGoesToTheDeadLetterTopic produces v1 records, then
// records whose writer schema changes seq from long to string (the registry
// takes it, its subject's compatibility being NONE; the table cannot), then
// v1 again with a few of those mixed in. The v1 records are all written, the
// others are dead-lettered with a reason naming the field, and the table
// records the partition's end offset: the partition does not stall.
func TestIncompatibleSchemaGoesToTheDeadLetterTopic(t *testing.T) {
	h := newHarness(t, "")
	const topic = "raw.evo.orders"
	h.createTopic(topic, 1)
	v1 := h.encoder(topic, leadSchema)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.rc.SetCompatibility(ctx, topic+"-value", "NONE"); err != nil {
		t.Fatal(err)
	}
	bad := h.encoder(topic, strings.Replace(leadSchema, `{"name":"seq","type":"long"}`, `{"name":"seq","type":"string"}`, 1))
	if v1.ID() == bad.ID() {
		t.Fatal("the registry gave both schemas one id")
	}
	badRecord := func(seq int64) *kgo.Record {
		native := lead(0, seq)
		native["seq"] = fmt.Sprint("s", seq)
		v, err := bad.Encode(native)
		if err != nil {
			t.Fatal(err)
		}
		return &kgo.Record{Topic: topic, Value: v}
	}
	var recs []*kgo.Record
	recs = append(recs, leadRecords(t, v1, topic, 0, 0, 30)...)
	for seq := int64(1000); seq < 1020; seq++ {
		recs = append(recs, badRecord(seq))
	}
	for i, r := range leadRecords(t, v1, topic, 0, 30, 30) {
		recs = append(recs, r)
		if i%6 == 5 { // the refused schema again, between records of the table's
			recs = append(recs, badRecord(2000+int64(i)))
		}
	}
	var badOffsets []int64
	for i, r := range recs {
		if id, _, err := avro.SplitWire(r.Value); err == nil && id == bad.ID() {
			badOffsets = append(badOffsets, int64(i))
		}
	}
	if len(badOffsets) != 25 {
		t.Fatalf("test premise: %d records of the refused schema, want 25", len(badOffsets))
	}
	h.produce(recs...)
	e := h.engine(Config{RotateRecords: 1_000_000, RotateInterval: time.Second})
	r := h.start(e)
	h.waitCommitted(topic, h.endOffsets(topic), 60*time.Second)
	st := e.Status()
	r.stop(t)

	got := duck(t, h.localLake("raw/"), fmt.Sprintf(partitionSums, "raw"))
	if want := expectPartitions(map[int32]int64{0: 60}); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("duckdb %v, want %v (every v1 record, once)", got, want)
	}
	tb, err := h.cat.Table(context.Background(), "raw_evo", "orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := tb.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := sc.FindFieldByName("seq"); !ok || f.Type.String() != "long" {
		t.Errorf("the table's seq column changed: %s", sc)
	}
	rows, err := tb.Scan(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 60 {
		t.Errorf("iceberg scan: %d rows, want 60", len(rows))
	}

	dl := h.kc.Consume(t, DefaultDLQTopic, len(badOffsets), 30*time.Second)
	if len(dl) != len(badOffsets) {
		t.Fatalf("%d dead letters, want %d", len(dl), len(badOffsets))
	}
	for i, rec := range dl {
		var d DeadLetter
		if err := json.Unmarshal(rec.Value, &d); err != nil {
			t.Fatalf("dead letter %d: %v: %s", i, err, rec.Value)
		}
		if d.Topic != topic || d.Offset != badOffsets[i] || d.SchemaID != bad.ID() || string(d.Value) != string(recs[d.Offset].Value) {
			t.Errorf("dead letter %d: offset %d schema %d, want offset %d schema %d", i, d.Offset, d.SchemaID, badOffsets[i], bad.ID())
		}
		if !strings.Contains(d.Reason, "seq") || !strings.Contains(d.Reason, "incompatible") {
			t.Errorf("dead letter %d reason %q does not say seq cannot change type", i, d.Reason)
		}
	}
	if n := testutil.ToFloat64(e.metrics.dlq.WithLabelValues(topic, dlqIncompatible)); n != float64(len(badOffsets)) {
		t.Errorf("dead letters metric (incompatible) %v, want %d", n, len(badOffsets))
	}
	if st.DeadLetters != int64(len(badOffsets)) || len(st.Partitions) != 1 || !slices.Equal(st.Partitions[0].RefusedSchemas, []uint32{bad.ID()}) {
		t.Errorf("status: %d dead letters, partitions %+v", st.DeadLetters, st.Partitions)
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
