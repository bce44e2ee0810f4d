package avroparquet

import (
	"math/big"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// TestDirectPathMatchesGeneral: schemas without multi-column repetition take
// the direct path (values appended in column order); it must give exactly the
// rows of the general per-column path.
func TestDirectPathMatchesGeneral(t *testing.T) {
	schema := `{"type":"record","name":"D","fields":[
		{"name":"a","type":"string"},
		{"name":"tags","type":{"type":"array","items":["null","string"]}},
		{"name":"grid","type":["null",{"type":"array","items":{"type":"array","items":"int"}}]},
		{"name":"r","type":["null",{"type":"record","name":"R","fields":[
			{"name":"x","type":{"type":"array","items":"long"}},{"name":"y","type":"double"}]}]},
		{"name":"z","type":"boolean"}]}`
	direct := mustNew(t, schema)
	if !direct.direct {
		t.Fatal("test premise: schema should take the direct path")
	}
	general := mustNew(t, schema)
	general.direct = false
	natives := decode(t, schema,
		map[string]any{"a": "1", "tags": []any{goavro.Union("string", "t"), nil}, "grid": goavro.Union("array", []any{[]any{int32(1)}, []any{}, []any{int32(2), int32(3)}}),
			"r": goavro.Union("R", map[string]any{"x": []any{int64(1), int64(2)}, "y": 0.5}), "z": true},
		map[string]any{"a": "", "tags": []any{}, "grid": nil, "r": nil, "z": false},
		map[string]any{"a": "3", "tags": []any{nil}, "grid": goavro.Union("array", []any{}), "r": goavro.Union("R", map[string]any{"x": []any{}, "y": 1.0}), "z": true},
	)
	for i, n := range natives {
		d, err := direct.ConvertRow(n)
		if err != nil {
			t.Fatal(err)
		}
		g, err := general.ConvertRow(n)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Equal(g) {
			t.Errorf("row %d:\n direct  %v\n general %v", i, d, g)
		}
	}
	db := openDuck(t)
	_, rows := query(t, db, "SELECT * FROM read_parquet(?, hive_partitioning=false)", writeFile(t, direct, WriterOptions{}, natives))
	diff(t, "rows", rows, [][]any{
		{"1", []any{"t", nil}, []any{[]any{int32(1)}, []any{}, []any{int32(2), int32(3)}}, map[string]any{"x": []any{int64(1), int64(2)}, "y": 0.5}, true},
		{"", []any{}, nil, nil, false},
		{"3", []any{nil}, []any{}, map[string]any{"x": []any{}, "y": 1.0}, true},
	})
}

// TestBenchmarkRecordDuckDB checks the benchmark's record reads back right.
func TestBenchmarkRecordDuckDB(t *testing.T) {
	c := mustNew(t, messageSchema)
	sent := time.Date(2024, 1, 15, 8, 0, 0, 123456000, time.UTC)
	natives := decode(t, messageSchema, map[string]any{
		"message_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "wa_id": "wamid.1", "phone_from": "5511", "phone_to": "5521",
		"direction": "OUTBOUND", "kind": "text", "body": goavro.Union("string", "olá"), "sent_at": sent,
		"status": nil, "price": goavro.Union("bytes.decimal", big.NewRat(12345, 10000)),
		"contact": map[string]any{"name": "Ana", "profile": nil}, "labels": []any{"vip", "sp"}, "forwarded": false,
	})
	db := openDuck(t)
	_, rows := query(t, db, "SELECT * FROM read_parquet(?, hive_partitioning=false)", writeFile(t, c, WriterOptions{}, natives))
	diff(t, "rows", rows, [][]any{{"0f8fad5b-d9cb-469f-a165-70867728950e", "wamid.1", "5511", "5521", "OUTBOUND", "text", "olá", sent,
		nil, dec{10, 4, "12345"}, map[string]any{"name": "Ana", "profile": nil}, []any{"vip", "sp"}, false}})
}
