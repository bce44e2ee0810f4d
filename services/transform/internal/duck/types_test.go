package duck

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/linkedin/goavro/v2"
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func bigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

func clock(h, m, s, us int) time.Time {
	return time.Date(1970, 1, 1, h, m, s, us*1000, time.UTC)
}

// TestAvroToDuckDBAndBack takes one value of every Avro type through the
// whole path: goavro encodes it, Decode reads it, DuckDB selects it, the
// result column gets an Avro type, Encode writes it and goavro reads it back.
func TestAvroToDuckDBAndBack(t *testing.T) {
	ts := utc("2024-02-29T23:59:58.123456Z")
	tests := []struct {
		name      string
		avroType  string // field type
		native    any    // goavro native of the field
		column    string // Column.Type
		decoded   any    // what Decode returns
		selected  any    // what Run returns for SELECT v
		outType   string // the field type in the output schema, inside ["null", T]
		outNative any    // goavro native of the output field
	}{
		{"string", `"string"`, "hé \"quoted\"", "VARCHAR", "hé \"quoted\"", "hé \"quoted\"", `"string"`,
			goavro.Union("string", "hé \"quoted\"")},
		{"uuid", `{"type":"string","logicalType":"uuid"}`, "0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b", "VARCHAR",
			"0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b", "0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b", `"string"`,
			goavro.Union("string", "0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b")},
		{"enum", `{"type":"enum","name":"Color","symbols":["RED","GREEN"]}`, "GREEN", "VARCHAR", "GREEN", "GREEN",
			`"string"`, goavro.Union("string", "GREEN")},
		{"int", `"int"`, int32(-7), "INTEGER", int32(-7), int32(-7), `"int"`, goavro.Union("int", int32(-7))},
		{"long", `"long"`, int64(1) << 40, "BIGINT", int64(1) << 40, int64(1) << 40, `"long"`,
			goavro.Union("long", int64(1)<<40)},
		{"float", `"float"`, float32(1.5), "FLOAT", float32(1.5), float32(1.5), `"float"`, goavro.Union("float", float32(1.5))},
		{"double", `"double"`, -2.25, "DOUBLE", -2.25, -2.25, `"double"`, goavro.Union("double", -2.25)},
		{"boolean", `"boolean"`, true, "BOOLEAN", true, true, `"boolean"`, goavro.Union("boolean", true)},
		{"bytes", `"bytes"`, []byte{0, 1, 0xff}, "BLOB", []byte{0, 1, 0xff}, []byte{0, 1, 0xff}, `"bytes"`,
			goavro.Union("bytes", []byte{0, 1, 0xff})},
		{"fixed", `{"type":"fixed","name":"F4","size":4}`, []byte{1, 2, 3, 4}, "BLOB", []byte{1, 2, 3, 4},
			[]byte{1, 2, 3, 4}, `"bytes"`, goavro.Union("bytes", []byte{1, 2, 3, 4})},
		{"decimal bytes", `{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`, rat("-1234.56"),
			"DECIMAL(10,2)", duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(-123456)},
			duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(-123456)},
			`{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`,
			goavro.Union("bytes.decimal", rat("-1234.56"))},
		{"decimal fixed 38", `{"type":"fixed","name":"D16","size":16,"logicalType":"decimal","precision":38,"scale":6}`,
			rat("12345678901234567890123456789012.345678"), "DECIMAL(38,6)",
			duckdb.Decimal{Width: 38, Scale: 6, Value: bigInt("12345678901234567890123456789012345678")},
			duckdb.Decimal{Width: 38, Scale: 6, Value: bigInt("12345678901234567890123456789012345678")},
			`{"type":"bytes","logicalType":"decimal","precision":38,"scale":6}`,
			goavro.Union("bytes.decimal", rat("12345678901234567890123456789012.345678"))},
		{"decimal wider than 38", `{"type":"bytes","logicalType":"decimal","precision":40,"scale":2}`,
			rat("-12345678901234567890123456789012345678.91"), "VARCHAR",
			"-12345678901234567890123456789012345678.91", "-12345678901234567890123456789012345678.91", `"string"`,
			goavro.Union("string", "-12345678901234567890123456789012345678.91")},
		{"date", `{"type":"int","logicalType":"date"}`, day("1969-12-31"), "DATE", day("1969-12-31"),
			day("1969-12-31"), `{"type":"int","logicalType":"date"}`, goavro.Union("int.date", day("1969-12-31"))},
		{"time-millis", `{"type":"int","logicalType":"time-millis"}`, 13*time.Hour + 14*time.Minute + 15678*time.Millisecond,
			"TIME", clock(13, 14, 15, 678000), time.Date(1, 1, 1, 13, 14, 15, 678000000, time.UTC),
			`{"type":"long","logicalType":"time-micros"}`,
			goavro.Union("long.time-micros", 13*time.Hour+14*time.Minute+15678*time.Millisecond)},
		{"time-micros", `{"type":"long","logicalType":"time-micros"}`, 23*time.Hour + 59*time.Minute + 59999999*time.Microsecond,
			"TIME", clock(23, 59, 59, 999999), time.Date(1, 1, 1, 23, 59, 59, 999999000, time.UTC),
			`{"type":"long","logicalType":"time-micros"}`,
			goavro.Union("long.time-micros", 23*time.Hour+59*time.Minute+59999999*time.Microsecond)},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`, ts.Truncate(time.Millisecond),
			"TIMESTAMPTZ", ts.Truncate(time.Millisecond), ts.Truncate(time.Millisecond),
			`{"type":"long","logicalType":"timestamp-micros"}`,
			goavro.Union("long.timestamp-micros", ts.Truncate(time.Millisecond))},
		{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`, ts, "TIMESTAMPTZ", ts, ts,
			`{"type":"long","logicalType":"timestamp-micros"}`, goavro.Union("long.timestamp-micros", ts)},
		{"local-timestamp-micros", `{"type":"long","logicalType":"local-timestamp-micros"}`, ts.UnixMicro(),
			"TIMESTAMP", ts, ts, `{"type":"long","logicalType":"local-timestamp-micros"}`,
			goavro.Union("long", ts.UnixMicro())},
		{"local-timestamp-millis", `{"type":"long","logicalType":"local-timestamp-millis"}`, ts.UnixMilli(),
			"TIMESTAMP", ts.Truncate(time.Millisecond), ts.Truncate(time.Millisecond),
			`{"type":"long","logicalType":"local-timestamp-micros"}`, goavro.Union("long", ts.Truncate(time.Millisecond).UnixMicro())},
		{"record", `{"type":"record","name":"Inner","fields":[{"name":"a","type":"int"},{"name":"b","type":["null","string"]},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}}]}`,
			map[string]any{"a": int32(1), "b": goavro.Union("string", "x\"y\n"), "at": ts.Truncate(time.Millisecond), "amount": rat("-0.05")},
			"JSON", json.RawMessage(`{"a":1,"b":"x\"y\n","at":"2024-02-29T23:59:58.123Z","amount":-0.05}`),
			`{"a":1,"b":"x\"y\n","at":"2024-02-29T23:59:58.123Z","amount":-0.05}`, `"string"`,
			goavro.Union("string", `{"a":1,"b":"x\"y\n","at":"2024-02-29T23:59:58.123Z","amount":-0.05}`)},
		{"array", `{"type":"array","items":"long"}`, []any{int64(1), int64(-2)}, "JSON", json.RawMessage(`[1,-2]`),
			`[1,-2]`, `"string"`, goavro.Union("string", `[1,-2]`)},
		{"map", `{"type":"map","values":"double"}`, map[string]any{"k": 1.5}, "JSON", json.RawMessage(`{"k":1.5}`),
			`{"k":1.5}`, `"string"`, goavro.Union("string", `{"k":1.5}`)},
		{"union", `["string","long"]`, goavro.Union("long", int64(5)), "JSON", json.RawMessage(`5`), `5`, `"string"`,
			goavro.Union("string", `5`)},
		{"nullable null", `["null","long"]`, nil, "BIGINT", nil, nil, `"long"`, nil},
		{"nullable value", `["null","string"]`, goavro.Union("string", "v"), "VARCHAR", "v", "v", `"string"`,
			goavro.Union("string", "v")},
		{"null last", `["long","null"]`, goavro.Union("long", int64(3)), "BIGINT", int64(3), int64(3), `"long"`,
			goavro.Union("long", int64(3))},
		{"nullable timestamp null", `["null",{"type":"long","logicalType":"timestamp-micros"}]`, nil, "TIMESTAMPTZ",
			nil, nil, `{"type":"long","logicalType":"timestamp-micros"}`, nil},
		{"nullable decimal null", `["null",{"type":"bytes","logicalType":"decimal","precision":18,"scale":4}]`, nil,
			"DECIMAL(18,4)", nil, nil, `{"type":"bytes","logicalType":"decimal","precision":18,"scale":4}`, nil},
	}
	e := openEngine(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := `{"type":"record","name":"R","fields":[{"name":"v","type":` + tt.avroType + `}]}`
			in := inputSchema(t, schema, UnwrapNone)
			if got := in.Columns; len(got) != 1 || got[0] != (Column{"v", tt.column}) {
				t.Fatalf("columns = %v, want [{v %s}]", got, tt.column)
			}
			rows := decodeAll(t, in, goavroBody(t, codecOf(t, schema), map[string]any{"v": tt.native}))
			if got, want := show(rows[0][0]), show(tt.decoded); got != want {
				t.Fatalf("decoded %s, want %s", got, want)
			}
			res := run(t, e, `SELECT v FROM t`, Input{Table: "t", Schema: in, Rows: rows})
			if got, want := show(res.Rows[0][0]), show(tt.selected); got != want {
				t.Fatalf("selected %s, want %s", got, want)
			}
			if res.Columns[0].DuckType != tt.column {
				t.Fatalf("result column type %s, want %s", res.Columns[0].DuckType, tt.column)
			}
			out, err := NewOutputSchema("Out", "", res.Columns, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"name":"v","type":["null",` + tt.outType + `],"default":null}`; !strings.Contains(out.JSON(), want) {
				t.Fatalf("output schema %s does not contain %s", out.JSON(), want)
			}
			body, err := out.Encode(nil, res.Rows[0])
			if err != nil {
				t.Fatal(err)
			}
			got := goavroDecode(t, codecOf(t, out.JSON()), body)
			if g, w := show(got["v"]), show(tt.outNative); g != w {
				t.Fatalf("goavro read back %s, want %s", g, w)
			}
		})
	}
}

// TestDuckDBToAvro covers the DuckDB types a model can produce that no
// Avro input maps to.
func TestDuckDBToAvro(t *testing.T) {
	tests := []struct {
		name, expr, duckType, outType string
		outNative                     any
	}{
		{"tinyint", `CAST(-8 AS TINYINT)`, "TINYINT", `"int"`, goavro.Union("int", int32(-8))},
		{"smallint", `CAST(-300 AS SMALLINT)`, "SMALLINT", `"int"`, goavro.Union("int", int32(-300))},
		{"utinyint", `CAST(200 AS UTINYINT)`, "UTINYINT", `"int"`, goavro.Union("int", int32(200))},
		{"usmallint", `CAST(60000 AS USMALLINT)`, "USMALLINT", `"int"`, goavro.Union("int", int32(60000))},
		{"uinteger", `CAST(4000000000 AS UINTEGER)`, "UINTEGER", `"long"`, goavro.Union("long", int64(4000000000))},
		{"ubigint", `CAST(18446744073709551615 AS UBIGINT)`, "UBIGINT",
			`{"type":"bytes","logicalType":"decimal","precision":38,"scale":0}`,
			goavro.Union("bytes.decimal", rat("18446744073709551615"))},
		{"hugeint", `CAST(-170141183460469231731687303715884105727 AS HUGEINT)`, "HUGEINT", `"string"`,
			goavro.Union("string", "-170141183460469231731687303715884105727")},
		{"uhugeint", `CAST(340282366920938463463374607431768211455 AS UHUGEINT)`, "UHUGEINT", `"string"`,
			goavro.Union("string", "340282366920938463463374607431768211455")},
		{"decimal", `CAST(123.4 AS DECIMAL(4,1))`, "DECIMAL(4,1)",
			`{"type":"bytes","logicalType":"decimal","precision":4,"scale":1}`, goavro.Union("bytes.decimal", rat("123.4"))},
		{"negative decimal", `CAST(-0.001 AS DECIMAL(20,3))`, "DECIMAL(20,3)",
			`{"type":"bytes","logicalType":"decimal","precision":20,"scale":3}`, goavro.Union("bytes.decimal", rat("-0.001"))},
		{"timestamp_s", `CAST('2024-01-02 03:04:05' AS TIMESTAMP_S)`, "TIMESTAMP_S",
			`{"type":"long","logicalType":"local-timestamp-micros"}`,
			goavro.Union("long", utc("2024-01-02T03:04:05Z").UnixMicro())},
		{"timestamp_ms", `CAST('2024-01-02 03:04:05.678' AS TIMESTAMP_MS)`, "TIMESTAMP_MS",
			`{"type":"long","logicalType":"local-timestamp-micros"}`,
			goavro.Union("long", utc("2024-01-02T03:04:05.678Z").UnixMicro())},
		{"timestamp_ns", `CAST('2024-01-02 03:04:05.678901' AS TIMESTAMP_NS)`, "TIMESTAMP_NS",
			`{"type":"long","logicalType":"local-timestamp-micros"}`,
			goavro.Union("long", utc("2024-01-02T03:04:05.678901Z").UnixMicro())},
		{"timestamptz", `CAST('2024-01-02 03:04:05.5-03' AS TIMESTAMPTZ)`, "TIMESTAMPTZ",
			`{"type":"long","logicalType":"timestamp-micros"}`,
			goavro.Union("long.timestamp-micros", utc("2024-01-02T06:04:05.5Z"))},
		{"time", `CAST('01:02:03.000004' AS TIME)`, "TIME", `{"type":"long","logicalType":"time-micros"}`,
			goavro.Union("long.time-micros", time.Hour+2*time.Minute+3*time.Second+4*time.Microsecond)},
		{"uuid", `CAST('0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b' AS UUID)`, "UUID",
			`{"type":"string","logicalType":"uuid"}`, goavro.Union("string", "0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b")},
		{"blob", `CAST('\xAA\x00' AS BLOB)`, "BLOB", `"bytes"`, goavro.Union("bytes", []byte{0xaa, 0})},
		{"list", `[1, 2, NULL]`, "INTEGER[]", `"string"`, goavro.Union("string", "[1,2,null]")},
		{"struct", `{'a': 1, 'b': 'x'}`, `STRUCT("a" INTEGER, "b" VARCHAR)`, `"string"`, goavro.Union("string", `{"a":1,"b":"x"}`)},
		{"map", `MAP {'k': 1.5}`, "MAP(VARCHAR, DECIMAL(2,1))", `"string"`, goavro.Union("string", `{"k":1.5}`)},
		{"array", `CAST([1, 2] AS INTEGER[2])`, "INTEGER[2]", `"string"`, goavro.Union("string", "[1,2]")},
		{"json", `CAST('{"a": [1, 2]}' AS JSON)`, "JSON", `"string"`, goavro.Union("string", `{"a": [1, 2]}`)},
		{"interval", `INTERVAL 1 DAY + INTERVAL 2 HOUR`, "INTERVAL", `"string"`, goavro.Union("string", "1 day 02:00:00")},
		{"timetz", `CAST('01:02:03+05' AS TIMETZ)`, "TIMETZ", `"string"`, goavro.Union("string", "01:02:03+05")},
		{"enum", `CAST('b' AS ENUM('a', 'b'))`, "ENUM", `"string"`, goavro.Union("string", "b")},
		{"bit", `CAST('0101' AS BIT)`, "BIT", `"string"`, goavro.Union("string", "0101")},
		{"union", `union_value(n := 7)`, `UNION("n" INTEGER)`, `"string"`, goavro.Union("string", `{"n":7}`)},
		{"null integer", `NULL`, "INTEGER", `"int"`, nil},
		{"null varchar", `CAST(NULL AS VARCHAR)`, "VARCHAR", `"string"`, nil},
	}
	e := openEngine(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, e, `SELECT `+tt.expr+` AS v`)
			if got := res.Columns[0].DuckType; got != tt.duckType {
				t.Fatalf("type %s, want %s", got, tt.duckType)
			}
			out, err := NewOutputSchema("Out", "", res.Columns, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := `"type":["null",` + tt.outType + `]`; !strings.Contains(out.JSON(), want) {
				t.Fatalf("schema %s does not contain %s", out.JSON(), want)
			}
			body, err := out.Encode(nil, res.Rows[0])
			if err != nil {
				t.Fatalf("encode %s: %v", show(res.Rows[0][0]), err)
			}
			got := goavroDecode(t, codecOf(t, out.JSON()), body)
			if g, w := show(got["v"]), show(tt.outNative); g != w {
				t.Fatalf("goavro read back %s, want %s", g, w)
			}
		})
	}
}
