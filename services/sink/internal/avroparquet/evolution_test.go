package avroparquet

import (
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/parquet-go/parquet-go"
)

const (
	evoV1 = `{"type":"record","name":"Lead","namespace":"ploomes","fields":[
		{"name":"id","type":"long"},
		{"name":"name","type":"string"},
		{"name":"owner","type":{"type":"record","name":"Owner","fields":[{"name":"id","type":"int"}]}}]}`
	// v2: a compatible change — a nullable field with a null default, and one inside owner
	evoV2 = `{"type":"record","name":"Lead","namespace":"ploomes","fields":[
		{"name":"id","type":"long"},
		{"name":"name","type":"string"},
		{"name":"owner","type":{"type":"record","name":"Owner","fields":[{"name":"id","type":"int"},
			{"name":"email","type":["null","string"],"default":null}]}},
		{"name":"score","type":["null",{"type":"bytes","logicalType":"decimal","precision":5,"scale":1}],"default":null}]}`
)

func TestSchemaEvolutionDuckDB(t *testing.T) {
	c1 := mustNew(t, evoV1)
	c2, err := New(evoV2, Options{Base: c1.IcebergSchema()})
	if err != nil {
		t.Fatal(err)
	}
	f1 := writeFile(t, c1, WriterOptions{}, decode(t, evoV1,
		map[string]any{"id": int64(1), "name": "a", "owner": map[string]any{"id": int32(10)}},
		map[string]any{"id": int64(2), "name": "b", "owner": map[string]any{"id": int32(20)}}))
	f2 := writeFile(t, c2, WriterOptions{}, decode(t, evoV2,
		map[string]any{"id": int64(3), "name": "c", "owner": map[string]any{"id": int32(30), "email": goavro.Union("string", "c@x")}, "score": goavro.Union("bytes.decimal", big.NewRat(95, 10))},
		map[string]any{"id": int64(4), "name": "d", "owner": map[string]any{"id": int32(40), "email": nil}, "score": nil}))

	db := openDuck(t)
	cols, rows := query(t, db, "SELECT * FROM read_parquet([?, ?], union_by_name=true, hive_partitioning=false) ORDER BY id", f1, f2)
	diff(t, "columns", cols, []string{"id", "name", "owner", "score"})
	want := [][]any{
		{int64(1), "a", map[string]any{"id": int32(10), "email": nil}, nil},
		{int64(2), "b", map[string]any{"id": int32(20), "email": nil}, nil},
		{int64(3), "c", map[string]any{"id": int32(30), "email": "c@x"}, dec{5, 1, "95"}},
		{int64(4), "d", map[string]any{"id": int32(40), "email": nil}, nil},
	}
	diff(t, "rows", rows, want)

	// the old fields keep their ids in the new files
	p1, p2 := map[string]int{}, map[string]int{}
	parquetIDs(c1.Schema(), "", p1)
	parquetIDs(c2.Schema(), "", p2)
	for path, id := range p1 {
		if p2[path] != id {
			t.Errorf("field %s: id %d in v1, %d in v2", path, id, p2[path])
		}
	}
}

// TestBareValues: nullable unions also take unwrapped values, and integers of
// any Go type that fits.
func TestBareValues(t *testing.T) {
	schema := `{"type":"record","name":"R","fields":[
		{"name":"s","type":["null","string"]},
		{"name":"r","type":["null",{"type":"record","name":"In","fields":[{"name":"v","type":"long"}]}]},
		{"name":"l","type":"long"},
		{"name":"i","type":"int"},
		{"name":"d","type":"double"},
		{"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-millis"}]},
		{"name":"dt","type":{"type":"int","logicalType":"date"}}]}`
	c := mustNew(t, schema)
	wrapped, err := c.ConvertRow(map[string]any{
		"s": map[string]any{"string": "x"}, "r": map[string]any{"In": map[string]any{"v": int64(5)}},
		"l": int64(7), "i": int32(8), "d": 1.5, "ts": map[string]any{"long.timestamp-millis": time.UnixMilli(1700000000123)},
		"dt": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := c.ConvertRow(map[string]any{
		"s": "x", "r": map[string]any{"v": 5}, "l": 7, "i": int64(8), "d": float32(1.5), "ts": int64(1700000000123),
		"dt": int32(19782),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !wrapped.Equal(bare) {
		t.Errorf("bare values convert differently:\n wrapped %v\n bare    %v", wrapped, bare)
	}
	if got := wrapped[5].Int64(); got != 1700000000123000 {
		t.Errorf("timestamp-millis stored as %d µs", got)
	}
}

// TestConcurrentAppendRow: one Converter used by many goroutines (run with -race).
func TestConcurrentAppendRow(t *testing.T) {
	c := mustNew(t, allTypes)
	if c.direct {
		t.Fatal("test premise: allTypes needs the per-column path")
	}
	cases := allTypeCases()
	ins := make([]map[string]any, len(cases))
	for i, tc := range cases {
		ins[i] = tc.in
	}
	natives := decode(t, allTypes, ins...)
	want := make([]parquet.Row, len(natives))
	for i, n := range natives {
		var err error
		if want[i], err = c.ConvertRow(n); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rows []parquet.Row
			for k := 0; k < 200; k++ {
				rows = rows[:0]
				for _, n := range natives {
					var err error
					if rows, err = c.AppendRow(rows, n); err != nil {
						errs <- err
						return
					}
				}
				for i := range rows {
					if !rows[i].Equal(want[i]) {
						errs <- fmt.Errorf("row %d differs under concurrency", i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
