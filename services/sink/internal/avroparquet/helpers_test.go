package avroparquet

import (
	"bytes"
	"database/sql"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/linkedin/goavro/v2"
	"github.com/parquet-go/parquet-go"
)

// decode turns Go values into what goavro's decoder returns for them: each one is
// encoded to Avro binary and decoded again.
func decode(t testing.TB, schema string, values ...map[string]any) []any {
	t.Helper()
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatalf("goavro codec: %v", err)
	}
	out := make([]any, len(values))
	for i, v := range values {
		bin, err := codec.BinaryFromNative(nil, v)
		if err != nil {
			t.Fatalf("row %d: goavro encode: %v", i, err)
		}
		native, rest, err := codec.NativeFromBinary(bin)
		if err != nil || len(rest) != 0 {
			t.Fatalf("row %d: goavro decode: %v (%d bytes left)", i, err, len(rest))
		}
		out[i] = native
	}
	return out
}

// writeFile converts natives with c and writes them to a new Parquet file.
func writeFile(t testing.TB, c *Converter, opts WriterOptions, natives []any) string {
	t.Helper()
	var rows []parquet.Row
	for i, n := range natives {
		var err error
		if rows, err = c.AppendRow(rows, n); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	var buf bytes.Buffer
	w, err := c.NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != int64(len(natives)) {
		t.Fatalf("Rows() = %d, want %d", w.Rows(), len(natives))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "data.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openDuck(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	return db
}

// query runs q and returns its column names and rows, values normalised by norm.
func query(t testing.TB, db *sql.DB, q string, args ...any) ([]string, [][]any) {
	t.Helper()
	rs, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i := range vals {
			vals[i] = norm(vals[i])
		}
		out = append(out, vals)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

// dec is how tests spell a DuckDB DECIMAL: width, scale and the unscaled value.
type dec struct {
	W, S int
	V    string
}

// kv is one entry of a DuckDB MAP.
type kv struct {
	K any
	V any
}

// norm makes DuckDB values comparable with reflect.DeepEqual.
func norm(v any) any {
	switch x := v.(type) {
	case duckdb.Decimal:
		return dec{int(x.Width), int(x.Scale), x.Value.String()}
	case duckdb.OrderedMap:
		return norm(&x)
	case *duckdb.OrderedMap:
		keys, vals := x.Keys(), x.Values()
		out := make([]kv, len(keys))
		for i := range keys {
			out[i] = kv{norm(keys[i]), norm(vals[i])}
		}
		sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i].K) < fmt.Sprint(out[j].K) })
		return out
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = norm(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = norm(e)
		}
		return s
	case *big.Int:
		return x.String()
	}
	return v
}

func diff(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func mustNew(t testing.TB, schema string) *Converter {
	t.Helper()
	c, err := New(schema, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}
