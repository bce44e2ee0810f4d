package avroparquet

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

const errSchema = `{"type":"record","name":"E","fields":[
 {"name":"i","type":"int"},
 {"name":"s","type":["null","string"],"default":null},
 {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}},
 {"name":"wide","type":["null",{"type":"fixed","name":"W","size":16,"logicalType":"decimal","precision":30,"scale":4}]},
 {"name":"e","type":{"type":"enum","name":"C","symbols":["A","B"]}},
 {"name":"fx","type":{"type":"fixed","name":"F","size":2}},
 {"name":"t","type":{"type":"int","logicalType":"time-millis"}},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"It","fields":[{"name":"q","type":"long"}]}}},
 {"name":"attrs","type":{"type":"map","values":"It"}},
 {"name":"u","type":["null","string","long"],"default":null}
]}`

func goodErrRecord() map[string]any {
	return map[string]any{
		"i":     int32(1),
		"s":     map[string]any{"string": "x"},
		"dec":   big.NewRat(12345, 100),
		"wide":  map[string]any{"W": big.NewRat(-5, 1)},
		"e":     "A",
		"fx":    []byte("ab"),
		"t":     time.Second,
		"ts":    time.Unix(1, 0),
		"items": []any{map[string]any{"q": int64(1)}, map[string]any{"q": int64(2)}},
		"attrs": map[string]any{"k": map[string]any{"q": int64(3)}},
		"u":     map[string]any{"long": int64(4)},
	}
}

func TestValueErrors(t *testing.T) {
	c := mustNew(t, errSchema)
	if _, err := c.AppendRow(nil, goodErrRecord()); err != nil {
		t.Fatalf("good record: %v", err)
	}
	cases := []struct {
		name   string
		change func(m map[string]any)
		path   string
		msg    string
	}{
		{"wrong type", func(m map[string]any) { m["i"] = "1" }, "i", "want int32, got string"},
		{"int overflow", func(m map[string]any) { m["i"] = int64(1) << 40 }, "i", "does not fit an int"},
		{"missing required", func(m map[string]any) { delete(m, "i") }, "i", "missing value"},
		{"unknown branch", func(m map[string]any) { m["s"] = map[string]any{"long": int64(1)} }, "s", `unknown union branch "long"`},
		{"unknown branch general", func(m map[string]any) { m["u"] = map[string]any{"double": 1.0} }, "u", `unknown union branch "double"`},
		{"general union unwrapped", func(m map[string]any) { m["u"] = "bare" }, "u", "want a union value"},
		{"decimal overflow", func(m map[string]any) { m["dec"] = big.NewRat(1000000, 1) }, "dec", "does not fit decimal(6,2)"},
		{"decimal too precise", func(m map[string]any) { m["dec"] = big.NewRat(1, 1000) }, "dec", "more than 2 decimal places"},
		{"decimal negative overflow", func(m map[string]any) { m["dec"] = big.NewRat(-1000000, 1) }, "dec", "does not fit"},
		{"wide decimal overflow", func(m map[string]any) {
			m["wide"] = map[string]any{"W": new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(26), nil))}
		}, "wide", "does not fit decimal(30,4)"},
		{"decimal wrong type", func(m map[string]any) { m["dec"] = 1.5 }, "dec", "want *big.Rat"},
		{"enum symbol", func(m map[string]any) { m["e"] = "Z" }, "e", "not a symbol"},
		{"fixed size", func(m map[string]any) { m["fx"] = []byte("abc") }, "fx", "fixed(2) got 3 bytes"},
		{"time of day", func(m map[string]any) { m["t"] = 25 * time.Hour }, "t", "outside [0, 24h)"},
		{"timestamp type", func(m map[string]any) { m["ts"] = "2024-01-01" }, "ts", "want time.Time"},
		{"array type", func(m map[string]any) { m["items"] = []string{"a"} }, "items", "want an array"},
		{"array element", func(m map[string]any) {
			m["items"] = []any{map[string]any{"q": int64(1)}, map[string]any{"q": "two"}}
		}, "items[1].q", "want int64"},
		{"map value", func(m map[string]any) { m["attrs"] = map[string]any{"a b": map[string]any{}} }, `attrs["a b"].q`, "missing value"},
		{"record type", func(m map[string]any) { m["attrs"] = map[string]any{"k": 5} }, `attrs["k"]`, "want a record"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := goodErrRecord()
			tc.change(m)
			rows := []parquet.Row{{parquet.Int32Value(7)}}
			out, err := c.AppendRow(rows, m)
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != tc.path {
				t.Fatalf("error %v: want a FieldError at %q", err, tc.path)
			}
			if !errors.Is(err, ErrMismatch) {
				t.Errorf("error %v does not wrap ErrMismatch", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if len(out) != 1 || !out[0].Equal(rows[0]) {
				t.Errorf("rows changed on error: %v", out)
			}
			// the converter is still good afterwards
			if _, err := c.AppendRow(nil, goodErrRecord()); err != nil {
				t.Fatalf("good record after a bad one: %v", err)
			}
		})
	}
	if _, err := c.AppendRow(nil, "not a record"); err == nil {
		t.Error("a string as the record: no error")
	}
	if _, err := c.AppendRow(nil, nil); err == nil {
		t.Error("nil as the record: no error")
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, s := range []string{
		``, `{`, `"string"`, `["null","string"]`, `{"type":"record","name":"R","fields":[]}`,
		`{"type":"record","name":"R","fields":[{"name":"n","type":"null"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"next","type":["null","R"]}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"bytes","logicalType":"decimal","precision":0}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":5}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":4,"logicalType":"decimal","precision":10}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"null"}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":["int","int"]}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":[]}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a-b","type":"int"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]} trailing`,
	} {
		if _, err := New(s, Options{}); err == nil {
			t.Errorf("New(%s): no error", s)
		}
	}
}
