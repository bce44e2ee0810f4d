package table_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/parquet-go/parquet-go"

	"github.com/riacho/riacho/services/sink/internal/avroparquet"
	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

const richSchema = `{
 "type": "record", "name": "Deal", "namespace": "riacho.test",
 "fields": [
  {"name": "id", "type": "long"},
  {"name": "title", "type": "string"},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
  {"name": "closed_on", "type": {"type": "int", "logicalType": "date"}},
  {"name": "updated_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "at_time", "type": {"type": "long", "logicalType": "time-micros"}},
  {"name": "ref", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "stage", "type": {"type": "enum", "name": "Stage", "symbols": ["OPEN", "WON", "LOST"]}},
  {"name": "blob", "type": "bytes"},
  {"name": "owner", "type": {"type": "record", "name": "Owner", "fields": [
     {"name": "user_id", "type": "int"},
     {"name": "email", "type": ["null", "string"], "default": null}]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "scores", "type": {"type": "map", "values": "long"}},
  {"name": "note", "type": ["null", "string"], "default": null},
  {"name": "backup", "type": ["null", "Owner"], "default": null}
 ]}`

func richRow(id int64) map[string]any {
	r := map[string]any{
		"id":         id,
		"title":      "deal",
		"amount":     new(big.Rat).SetFrac64(id*100+34, 100),
		"closed_on":  time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
		"updated_at": time.Date(2024, 1, 15, 10, 30, 45, 123456000, time.UTC),
		"at_time":    10*time.Hour + 250*time.Microsecond,
		"ref":        "6f1c2c4e-8f0a-4c1e-9b8e-2f0c1d2e3f40",
		"stage":      "WON",
		"blob":       []byte{0, 1, byte(id)},
		"owner":      map[string]any{"user_id": int32(id), "email": goavro.Union("string", "o@example.com")},
		"tags":       []any{"a", "b"},
		"scores":     map[string]any{"x": id, "y": int64(2)},
		"note":       nil,
		"backup":     nil,
	}
	if id%2 == 1 {
		r["note"] = goavro.Union("string", "odd")
		r["backup"] = goavro.Union("riacho.test.Owner", map[string]any{"user_id": int32(-1), "email": nil})
	}
	return r
}

// Files written by the sink's converter (with the table's field ids) read back through Iceberg
// with every nested and logical type, before and after compaction.
func TestConverterFilesThroughIceberg(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fresh, err := avroparquet.New(richSchema, avroparquet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := e.cat.Table(ctx, "raw_ploomes", "deals", fresh.IcebergSchema())
	if err != nil {
		t.Fatal(err)
	}
	base, _ := tb.Schema(ctx)
	conv, err := avroparquet.New(richSchema, avroparquet.Options{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		var rows []parquet.Row
		for id := int64(i * 3); id < int64(i*3+3); id++ {
			if rows, err = conv.AppendRow(rows, richRow(id)); err != nil {
				t.Fatal(err)
			}
		}
		key := lake.StagingKey("raw.ploomes.deals", 0, int64(i*3), int64(i*3+2), day1)
		w, err := e.store.NewWriter(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		pw, err := conv.NewWriter(w, avroparquet.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := pw.WriteRows(rows); err != nil {
			t.Fatal(err)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		req := table.CommitRequest{
			Topic: "raw.ploomes.deals", Zone: "raw", Source: "ploomes", Entity: "deals",
			Files: []table.StagedFile{{Key: key, Day: day1, Records: 3}},
			Start: map[int32]int64{0: int64(i * 3)}, Next: map[int32]int64{0: int64(i*3 + 3)},
		}
		if _, err := tb.Commit(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	var r1 map[string]any
	for _, r := range rows {
		if r["id"] == int64(1) {
			r1 = r
		}
	}
	if r1 == nil {
		t.Fatalf("row 1 missing: %v", rows)
	}
	checks := map[string]any{
		"title":      "deal",
		"amount":     "67/50", // 1.34
		"closed_on":  time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC),
		"updated_at": time.Date(2024, 1, 15, 10, 30, 45, 123456000, time.UTC),
		"at_time":    10*time.Hour + 250*time.Microsecond,
		"ref":        "6f1c2c4e-8f0a-4c1e-9b8e-2f0c1d2e3f40",
		"stage":      "WON",
		"note":       "odd",
	}
	for k, want := range checks {
		got := r1[k]
		if rat, ok := got.(*big.Rat); ok {
			got = rat.String()
		}
		if tm, ok := got.(time.Time); ok {
			if !tm.Equal(want.(time.Time)) {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
			continue
		}
		if got != want {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	if b, _ := r1["blob"].([]byte); len(b) != 3 || b[2] != 1 {
		t.Errorf("blob = %v", r1["blob"])
	}
	if o, _ := r1["owner"].(map[string]any); o["user_id"] != int32(1) || o["email"] != "o@example.com" {
		t.Errorf("owner = %v", r1["owner"])
	}
	if b, _ := r1["backup"].(map[string]any); b["user_id"] != int32(-1) || b["email"] != nil {
		t.Errorf("backup = %v", r1["backup"])
	}
	if tags, _ := r1["tags"].([]any); len(tags) != 2 || tags[0] != "a" || tags[1] != "b" {
		t.Errorf("tags = %v", r1["tags"])
	}
	if m, _ := r1["scores"].(map[string]any); len(m) != 2 || m["x"] != int64(1) || m["y"] != int64(2) {
		t.Errorf("scores = %v", r1["scores"])
	}
	for _, r := range rows {
		if r["id"] == int64(2) && (r["note"] != nil || r["backup"] != nil) {
			t.Errorf("nulls of row 2: %v", r)
		}
	}

	cs, err := tb.Compact(ctx, day1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Operation != "replace" {
		t.Fatalf("compaction %+v", cs)
	}
	after, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRows(rows, after) {
		t.Fatalf("compaction changed rows:\n%v\n%v", rows, after)
	}
	if d, _ := tb.Describe(ctx); d.Files != 1 || d.Records != 6 {
		t.Fatalf("after compaction %+v", d)
	}
}
