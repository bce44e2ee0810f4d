package avroparquet

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// allTypes has a field of every Avro type and logical type.
const allTypes = `{
 "type": "record", "name": "All", "namespace": "riacho.test",
 "fields": [
  {"name": "id", "type": "int"},
  {"name": "b", "type": "boolean"},
  {"name": "l", "type": "long"},
  {"name": "f", "type": "float"},
  {"name": "d", "type": "double"},
  {"name": "s", "type": "string"},
  {"name": "bys", "type": "bytes"},
  {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
  {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
  {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
  {"name": "dec_small", "type": {"type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 3}},
  {"name": "dec_fixed", "type": {"type": "fixed", "name": "Dec16", "size": 16, "logicalType": "decimal", "precision": 38, "scale": 10}},
  {"name": "dec_wide", "type": {"type": "bytes", "logicalType": "decimal", "precision": 50, "scale": 5}},
  {"name": "dt", "type": {"type": "int", "logicalType": "date"}},
  {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
  {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
  {"name": "tsm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "lts", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
  {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
  {"name": "uf", "type": {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"}},
  {"name": "rec", "type": {"type": "record", "name": "Inner", "fields": [
     {"name": "x", "type": "int"},
     {"name": "y", "type": ["null", "string"], "default": null}]}},
  {"name": "arr", "type": {"type": "array", "items": "string"}},
  {"name": "arr_null", "type": {"type": "array", "items": ["null", "long"]}},
  {"name": "arr_rec", "type": {"type": "array", "items": "Inner"}},
  {"name": "m", "type": {"type": "map", "values": "long"}},
  {"name": "m_rec", "type": {"type": "map", "values": ["null", "Inner"]}},
  {"name": "opt", "type": ["null", "string"], "default": null},
  {"name": "opt_rec", "type": ["null", "Inner"], "default": null},
  {"name": "opt_ts", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": null},
  {"name": "opt_dec", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}], "default": null},
  {"name": "opt_arr", "type": ["null", {"type": "array", "items": "int"}], "default": null},
  {"name": "uni", "type": ["null", "string", "long", "Inner"], "default": null},
  {"name": "nothing", "type": "null"},
  {"name": "nested", "type": {"type": "array", "items": {"type": "array", "items": "int"}}}
 ]}`

// allColumns is the expected column order and DuckDB type of allTypes.
var allColumns = [][2]string{
	{"id", "INTEGER"}, {"b", "BOOLEAN"}, {"l", "BIGINT"}, {"f", "FLOAT"}, {"d", "DOUBLE"},
	{"s", "VARCHAR"}, {"bys", "BLOB"}, {"e", "VARCHAR"}, {"fx", "BLOB"},
	{"dec", "DECIMAL(10,2)"}, {"dec_small", "DECIMAL(5,3)"}, {"dec_fixed", "DECIMAL(38,10)"}, {"dec_wide", "VARCHAR"},
	{"dt", "DATE"}, {"tm", "TIME"}, {"tu", "TIME"}, {"tsm", "TIMESTAMP WITH TIME ZONE"},
	{"tsu", "TIMESTAMP WITH TIME ZONE"}, {"lts", "TIMESTAMP"}, {"u", "VARCHAR"}, {"uf", "UUID"},
	{"rec", "STRUCT(x INTEGER, y VARCHAR)"}, {"arr", "VARCHAR[]"}, {"arr_null", "BIGINT[]"},
	{"arr_rec", "STRUCT(x INTEGER, y VARCHAR)[]"}, {"m", "MAP(VARCHAR, BIGINT)"},
	{"m_rec", "MAP(VARCHAR, STRUCT(x INTEGER, y VARCHAR))"}, {"opt", "VARCHAR"},
	{"opt_rec", "STRUCT(x INTEGER, y VARCHAR)"}, {"opt_ts", "TIMESTAMP WITH TIME ZONE"},
	{"opt_dec", "DECIMAL(10,2)"}, {"opt_arr", "INTEGER[]"},
	{"uni", `STRUCT(string VARCHAR, long BIGINT, "Inner" STRUCT(x INTEGER, y VARCHAR))`},
	{"nested", "INTEGER[][]"},
}

type typeCase struct {
	in   map[string]any // Go values for goavro's encoder
	want []any          // DuckDB's values, in column order (norm applied)
}

func inner(x int32, y any) map[string]any {
	if y == nil {
		return map[string]any{"x": x, "y": nil}
	}
	return map[string]any{"x": x, "y": goavro.Union("string", y)}
}

func tod(h, m, s, ns int) time.Time { return time.Date(1, 1, 1, h, m, s, ns, time.UTC) }

func allTypeCases() []typeCase {
	uuidBytes := []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	ts := time.Date(2024, 1, 15, 10, 30, 45, 123456000, time.UTC)
	return []typeCase{{
		in: map[string]any{
			"id": int32(1), "b": true, "l": int64(1) << 40, "f": float32(1.5), "d": 2.25, "s": "olá",
			"bys": []byte{0, 1, 2, 255}, "e": "GREEN", "fx": []byte("abcd"),
			"dec": rat("12345678.91"), "dec_small": rat("-12.345"), "dec_fixed": rat("1234567890123456789012345678.0123456789"),
			"dec_wide": rat("123456789012345678901234567890123456789012345.12345"),
			"dt":       time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), "tm": 10*time.Hour + 30*time.Minute + 1234*time.Millisecond,
			"tu":  23*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond,
			"tsm": ts, "tsu": ts, "lts": int64(1705314645123456),
			"u": "6f1c2c4e-8f0a-4c1e-9b8e-2f0c1d2e3f40", "uf": uuidBytes,
			"rec":      inner(7, "y7"),
			"arr":      []any{"a", "", "c"},
			"arr_null": []any{goavro.Union("long", int64(1)), nil, goavro.Union("long", int64(-3))},
			"arr_rec":  []any{inner(1, nil), inner(2, "two")},
			"m":        map[string]any{"b": int64(2), "a": int64(1), "c": int64(3)},
			"m_rec":    map[string]any{"k1": goavro.Union("riacho.test.Inner", inner(5, "five")), "k2": nil},
			"opt":      goavro.Union("string", "here"),
			"opt_rec":  goavro.Union("riacho.test.Inner", inner(9, nil)),
			"opt_ts":   goavro.Union("long.timestamp-micros", ts),
			"opt_dec":  goavro.Union("bytes.decimal", rat("-0.01")),
			"opt_arr":  goavro.Union("array", []any{int32(4), int32(5)}),
			"uni":      goavro.Union("string", "text"),
			"nothing":  nil,
			"nested":   []any{[]any{int32(1), int32(2)}, []any{}, []any{int32(3)}},
		},
		want: []any{
			int32(1), true, int64(1) << 40, float32(1.5), 2.25, "olá", []byte{0, 1, 2, 255}, "GREEN", []byte("abcd"),
			dec{10, 2, "1234567891"}, dec{5, 3, "-12345"}, dec{38, 10, "12345678901234567890123456780123456789"},
			"123456789012345678901234567890123456789012345.12345",
			time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), tod(10, 30, 1, 234000000), tod(23, 59, 59, 999999000),
			time.Date(2024, 1, 15, 10, 30, 45, 123000000, time.UTC), ts, ts,
			"6f1c2c4e-8f0a-4c1e-9b8e-2f0c1d2e3f40", uuidBytes,
			map[string]any{"x": int32(7), "y": "y7"},
			[]any{"a", "", "c"},
			[]any{int64(1), nil, int64(-3)},
			[]any{map[string]any{"x": int32(1), "y": nil}, map[string]any{"x": int32(2), "y": "two"}},
			[]kv{{"a", int64(1)}, {"b", int64(2)}, {"c", int64(3)}},
			[]kv{{"k1", map[string]any{"x": int32(5), "y": "five"}}, {"k2", nil}},
			"here",
			map[string]any{"x": int32(9), "y": nil},
			ts, dec{10, 2, "-1"}, []any{int32(4), int32(5)},
			map[string]any{"string": "text", "long": nil, "Inner": nil},
			[]any{[]any{int32(1), int32(2)}, []any{}, []any{int32(3)}},
		},
	}, {
		// extremes, empties and nulls
		in: map[string]any{
			"id": int32(2), "b": false, "l": int64(-9223372036854775808), "f": float32(-0.25), "d": -1e300, "s": "",
			"bys": []byte{}, "e": "RED", "fx": []byte{0, 0, 0, 0},
			"dec": rat("-99999999.99"), "dec_small": rat("99.999"), "dec_fixed": rat("-9999999999999999999999999999.9999999999"),
			"dec_wide": rat("-0.5"),
			"dt":       time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "tm": time.Duration(0), "tu": time.Duration(0),
			"tsm": time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "tsu": time.Unix(0, 0).UTC(), "lts": int64(-1),
			"u": "", "uf": make([]byte, 16),
			"rec":      inner(-1, nil),
			"arr":      []any{},
			"arr_null": []any{nil},
			"arr_rec":  []any{},
			"m":        map[string]any{},
			"m_rec":    map[string]any{},
			"opt":      nil, "opt_rec": nil, "opt_ts": nil, "opt_dec": nil, "opt_arr": nil,
			"uni":     goavro.Union("long", int64(42)),
			"nothing": nil,
			"nested":  []any{},
		},
		want: []any{
			int32(2), false, int64(-9223372036854775808), float32(-0.25), -1e300, "", []byte{}, "RED", []byte{0, 0, 0, 0},
			dec{10, 2, "-9999999999"}, dec{5, 3, "99999"}, dec{38, 10, "-99999999999999999999999999999999999999"},
			"-0.50000",
			time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), tod(0, 0, 0, 0), tod(0, 0, 0, 0),
			time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0).UTC(), time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
			"", make([]byte, 16),
			map[string]any{"x": int32(-1), "y": nil},
			[]any{}, []any{nil}, []any{}, []kv{}, []kv{},
			nil, nil, nil, nil, nil,
			map[string]any{"string": nil, "long": int64(42), "Inner": nil},
			[]any{},
		},
	}, {
		in: map[string]any{
			"id": int32(3), "b": true, "l": int64(0), "f": float32(0), "d": 0.0, "s": strings.Repeat("x", 1000),
			"bys": []byte("b"), "e": "BLUE", "fx": []byte{1, 2, 3, 4},
			"dec": rat("0"), "dec_small": rat("0.001"), "dec_fixed": rat("0.0000000001"), "dec_wide": rat("0"),
			"dt": time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "tm": 86399999 * time.Millisecond, "tu": time.Microsecond,
			"tsm": time.Date(2262, 4, 11, 23, 47, 16, 854000000, time.UTC), "tsu": time.Date(1677, 9, 21, 0, 12, 43, 145225000, time.UTC),
			"lts": int64(0), "u": "00000000-0000-0000-0000-000000000000", "uf": []byte("0123456789abcdef"),
			"rec":      inner(0, "日本"),
			"arr":      []any{"only"},
			"arr_null": []any{},
			"arr_rec":  []any{inner(1, "a"), inner(2, nil), inner(3, "c")},
			"m":        map[string]any{"": int64(0)},
			"m_rec":    map[string]any{"z": nil},
			"opt":      goavro.Union("string", ""),
			"opt_rec":  goavro.Union("riacho.test.Inner", inner(1, "1")),
			"opt_ts":   goavro.Union("long.timestamp-micros", time.Unix(0, 0).UTC()),
			"opt_dec":  goavro.Union("bytes.decimal", rat("0")),
			"opt_arr":  goavro.Union("array", []any{}),
			"uni":      goavro.Union("riacho.test.Inner", inner(11, "eleven")),
			"nothing":  nil,
			"nested":   []any{[]any{}},
		},
		want: []any{
			int32(3), true, int64(0), float32(0), 0.0, strings.Repeat("x", 1000), []byte("b"), "BLUE", []byte{1, 2, 3, 4},
			dec{10, 2, "0"}, dec{5, 3, "1"}, dec{38, 10, "1"}, "0.00000",
			time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), tod(23, 59, 59, 999000000), tod(0, 0, 0, 1000),
			time.Date(2262, 4, 11, 23, 47, 16, 854000000, time.UTC), time.Date(1677, 9, 21, 0, 12, 43, 145225000, time.UTC),
			time.Unix(0, 0).UTC(), "00000000-0000-0000-0000-000000000000", []byte("0123456789abcdef"),
			map[string]any{"x": int32(0), "y": "日本"},
			[]any{"only"}, []any{},
			[]any{map[string]any{"x": int32(1), "y": "a"}, map[string]any{"x": int32(2), "y": nil}, map[string]any{"x": int32(3), "y": "c"}},
			[]kv{{"", int64(0)}}, []kv{{"z", nil}},
			"", map[string]any{"x": int32(1), "y": "1"}, time.Unix(0, 0).UTC(), dec{10, 2, "0"}, []any{},
			map[string]any{"string": nil, "long": nil, "Inner": map[string]any{"x": int32(11), "y": "eleven"}},
			[]any{[]any{}},
		},
	}}
}

func TestAllTypesDuckDB(t *testing.T) {
	c := mustNew(t, allTypes)
	cases := allTypeCases()
	ins := make([]map[string]any, len(cases))
	for i, tc := range cases {
		ins[i] = tc.in
	}
	natives := decode(t, allTypes, ins...)
	for _, compression := range []string{"", "snappy-better", "zstd", "gzip", "none", "lz4"} {
		t.Run("compression="+compression, func(t *testing.T) {
			path := writeFile(t, c, WriterOptions{Compression: compression}, natives)
			db := openDuck(t)

			_, desc := query(t, db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning=false))", path)
			if len(desc) != len(allColumns) {
				t.Fatalf("DuckDB sees %d columns, want %d: %v", len(desc), len(allColumns), desc)
			}
			for i, col := range allColumns {
				diff(t, fmt.Sprintf("column %d", i), []any{desc[i][0], desc[i][1]}, []any{col[0], col[1]})
			}

			cols, rows := query(t, db, "SELECT * FROM read_parquet(?, hive_partitioning=false) ORDER BY id", path)
			if len(rows) != len(cases) {
				t.Fatalf("DuckDB read %d rows, want %d", len(rows), len(cases))
			}
			for i, tc := range cases {
				for j, want := range tc.want {
					diff(t, fmt.Sprintf("row %d column %s", i, cols[j]), rows[i][j], want)
				}
			}

			_, codecs := query(t, db, "SELECT DISTINCT compression FROM parquet_metadata(?)", path)
			want := map[string]string{"": "SNAPPY", "snappy-better": "SNAPPY", "zstd": "ZSTD", "gzip": "GZIP", "none": "UNCOMPRESSED", "lz4": "LZ4_RAW"}[compression]
			diff(t, "compression", codecs, [][]any{{want}})
		})
	}
}
