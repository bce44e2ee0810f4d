package table_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/parquet-go/parquet-go"

	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

const topic = "raw.ploomes.leads"

var (
	day1 = time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	day2 = time.Date(2024, 1, 16, 0, 0, 0, 0, time.UTC)
)

// schemaV1 is what an Avro record {id: long, name: ["null","string"]} maps to.
func schemaV1() *iceberg.Schema {
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
}

// schemaV2 adds an optional field.
func schemaV2() *iceberg.Schema {
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "email", Type: iceberg.PrimitiveTypes.String},
	)
}

type env struct {
	store *lake.Store
	cat   *table.Catalog
}

// newEnv opens a file:// lake in a temporary directory with the default SQLite catalog.
func newEnv(t *testing.T) env { return newEnvB(t) }

func newEnvB(t testing.TB) env {
	t.Helper()
	ctx := context.Background()
	store, err := lake.Open(ctx, "file://"+filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cat, err := table.OpenCatalog(ctx, "", "", store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cat.Close() })
	return env{store: store, cat: cat}
}

func (e env) table(t *testing.T, schema *iceberg.Schema) *table.Table {
	t.Helper()
	tb, err := e.cat.Table(context.Background(), "raw_ploomes", "leads", schema)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// row is one record of the test tables.
type row map[string]any

// writeParquet writes rows as a Parquet file with parquet-go. Columns are the fields of schema
// (long, int, string, double); field ids are taken from ids by name (nil: no ids in the file).
func writeParquet(t testing.TB, store *lake.Store, key string, schema, ids *iceberg.Schema, rows []row) {
	t.Helper()
	group := parquet.Group{}
	for _, f := range schema.Fields() {
		var n parquet.Node
		switch f.Type {
		case iceberg.PrimitiveTypes.Int64:
			n = parquet.Int(64)
		case iceberg.PrimitiveTypes.Int32:
			n = parquet.Int(32)
		case iceberg.PrimitiveTypes.String:
			n = parquet.String()
		case iceberg.PrimitiveTypes.Float64:
			n = parquet.Leaf(parquet.DoubleType)
		default:
			t.Fatalf("test writer: type %s", f.Type)
		}
		if !f.Required {
			n = parquet.Optional(n)
		}
		if ids != nil {
			idf, ok := ids.FindFieldByName(f.Name)
			if !ok {
				t.Fatalf("no id for %s", f.Name)
			}
			n = parquet.FieldID(n, idf.ID)
		}
		group[f.Name] = n
	}
	ps := parquet.NewSchema("record", group)
	var prows []parquet.Row
	for _, r := range rows {
		var pr parquet.Row
		for ci, path := range ps.Columns() {
			leaf, _ := ps.Lookup(path...)
			v, present := r[path[0]]
			switch {
			case (!present || v == nil) && leaf.Node.Optional():
				pr = append(pr, parquet.Value{}.Level(0, 0, ci))
			case !present || v == nil:
				t.Fatalf("required column %s missing", path[0])
			default:
				def := 0
				if leaf.Node.Optional() {
					def = 1
				}
				pr = append(pr, parquet.ValueOf(v).Level(0, def, ci))
			}
		}
		prows = append(prows, pr)
	}
	w, err := store.NewWriter(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	pw := parquet.NewGenericWriter[any](w, ps, parquet.Compression(&parquet.Snappy))
	if _, err := pw.WriteRows(prows); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readParquet reads a lake object back with parquet-go (independently of Iceberg), as rows of
// column → value.
func readParquet(t *testing.T, store *lake.Store, key string) []row {
	t.Helper()
	ra, size, err := store.OpenFile(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(ra, size)
	if err != nil {
		t.Fatal(err)
	}
	cols := f.Schema().Columns()
	var out []row
	for _, rg := range f.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rr.ReadRows(buf)
			for _, pr := range buf[:n] {
				r := row{}
				for _, v := range pr {
					name := cols[v.Column()][0]
					switch {
					case v.IsNull():
						r[name] = nil
					case v.Kind() == parquet.ByteArray:
						r[name] = string(v.ByteArray())
					case v.Kind() == parquet.Int64:
						r[name] = v.Int64()
					default:
						r[name] = v.String()
					}
				}
				out = append(out, r)
			}
			if err != nil {
				break
			}
		}
		_ = rr.Close()
	}
	return out
}

// rowsFor makes n rows with ids from..from+n-1.
func rowsFor(from, n int, withEmail bool) []row {
	var out []row
	for i := from; i < from+n; i++ {
		r := row{"id": int64(i), "name": fmt.Sprintf("lead %d", i)}
		if i%7 == 3 {
			r["name"] = nil
		}
		if withEmail {
			r["email"] = fmt.Sprintf("l%d@example.com", i)
		}
		out = append(out, r)
	}
	return out
}

// stage writes rows to the staging key of (partition, first..last, day) and returns the file.
func stage(t *testing.T, e env, schema, ids *iceberg.Schema, p int32, first int64, rows []row, day time.Time) table.StagedFile {
	t.Helper()
	last := first + int64(len(rows)) - 1
	key := lake.StagingKey(topic, p, first, last, day)
	writeParquet(t, e.store, key, schema, ids, rows)
	return table.StagedFile{Key: key, Day: day, Records: int64(len(rows))}
}

func request(files []table.StagedFile, p int32, start, next int64) table.CommitRequest {
	return table.CommitRequest{
		Topic: topic, Zone: "raw", Source: "ploomes", Entity: "leads",
		Files: files, Start: map[int32]int64{p: start}, Next: map[int32]int64{p: next},
	}
}

// ids returns the sorted "id" values of rows (Scan gives int64).
func ids(t *testing.T, rows []map[string]any) []int64 {
	t.Helper()
	var out []int64
	for _, r := range rows {
		v, ok := r["id"].(int64)
		if !ok {
			t.Fatalf("row without int64 id: %v", r)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func seqIDs(from, n int) []int64 {
	var out []int64
	for i := from; i < from+n; i++ {
		out = append(out, int64(i))
	}
	return out
}

// layoutKeys lists the committed-layout objects of the lake (staging and metadata excluded).
func layoutKeys(t *testing.T, store *lake.Store) []string {
	t.Helper()
	objs, err := store.List(context.Background(), "raw/")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	sort.Strings(out)
	return out
}

func stagedKeys(t *testing.T, store *lake.Store) []string {
	t.Helper()
	objs, err := store.List(context.Background(), "_staging/")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func join(s []string) string { return strings.Join(s, "\n") }
