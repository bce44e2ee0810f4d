package duck

import (
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/linkedin/goavro/v2"
)

// envelopeSchema is a Debezium envelope laid out like services/cdc writes it.
const envelopeSchema = `{"type":"record","name":"Envelope","namespace":"riacho.cdc.public.leads","fields":[
	{"name":"before","type":["null",{"type":"record","name":"Value","fields":[
		{"name":"id","type":"long"},
		{"name":"email","type":["null","string"],"default":null},
		{"name":"amount","type":["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}],"default":null}]}],
		"default":null},
	{"name":"after","type":["null","Value"],"default":null},
	{"name":"source","type":{"type":"record","name":"Source","namespace":"riacho.cdc","fields":[
		{"name":"version","type":"string"},
		{"name":"ts_ms","type":"long"},
		{"name":"lsn","type":["null","long"],"default":null}]}},
	{"name":"op","type":"string"},
	{"name":"ts_ms","type":["null","long"],"default":null},
	{"name":"unchanged","type":{"type":"array","items":"string"},"default":[]}]}`

func change(op string, before, after map[string]any, sourceMs int64) map[string]any {
	n := map[string]any{
		"before": nil, "after": nil, "op": op, "ts_ms": goavro.Union("long", sourceMs+5),
		"source":    map[string]any{"version": "riacho-cdc/1", "ts_ms": sourceMs, "lsn": goavro.Union("long", int64(42))},
		"unchanged": []any{"blob_col"},
	}
	if before != nil {
		n["before"] = goavro.Union("riacho.cdc.public.leads.Value", before)
	}
	if after != nil {
		n["after"] = goavro.Union("riacho.cdc.public.leads.Value", after)
	}
	return n
}

func leadRow(id int64, email string, amount string) map[string]any {
	return map[string]any{"id": id, "email": goavro.Union("string", email), "amount": goavro.Union("bytes.decimal", rat(amount))}
}

func dec(unscaled int64) duckdb.Decimal {
	return duckdb.Decimal{Width: 10, Scale: 2, Value: big.NewInt(unscaled)}
}

func TestDebeziumUnwrap(t *testing.T) {
	s := inputSchema(t, envelopeSchema, UnwrapAuto)
	wantCols := []Column{{"id", "BIGINT"}, {"email", "VARCHAR"}, {"amount", "DECIMAL(10,2)"},
		{ColOp, "VARCHAR"}, {ColDeleted, "BOOLEAN"}, {ColSourceTS, "TIMESTAMPTZ"}}
	if !s.Envelope || !reflect.DeepEqual(s.Columns, wantCols) {
		t.Fatalf("envelope %v columns %v, want %v", s.Envelope, s.Columns, wantCols)
	}
	codec := codecOf(t, envelopeSchema)
	const ms = int64(1714521600123) // 2024-05-01T00:00:00.123Z
	srcTS := utc("2024-05-01T00:00:00.123Z")
	tests := []struct {
		name   string
		native map[string]any
		want   []any
	}{
		{"create", change("c", nil, leadRow(1, "a@x", "1.50"), ms),
			[]any{int64(1), "a@x", dec(150), "c", false, srcTS}},
		{"update takes after", change("u", leadRow(2, "old@x", "2.00"), leadRow(2, "new@x", "-3.25"), ms),
			[]any{int64(2), "new@x", dec(-325), "u", false, srcTS}},
		{"delete takes before", change("d", leadRow(3, "gone@x", "9.99"), nil, ms),
			[]any{int64(3), "gone@x", dec(999), "d", true, srcTS}},
		{"snapshot read", change("r", nil, leadRow(4, "snap@x", "0.01"), ms),
			[]any{int64(4), "snap@x", dec(1), "r", false, srcTS}},
		{"delete without before", change("d", nil, nil, ms),
			[]any{nil, nil, nil, "d", true, srcTS}},
	}
	var rows [][]any
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := decodeAll(t, s, goavroBody(t, codec, tt.native))[0]
			for i := range row {
				if show(row[i]) != show(tt.want[i]) {
					t.Fatalf("column %s = %s, want %s", s.Columns[i].Name, show(row[i]), show(tt.want[i]))
				}
			}
			rows = append(rows, row)
		})
	}

	// The unwrapped columns are ordinary columns for the model.
	e := openEngine(t)
	res := run(t, e, `SELECT id, __op, amount FROM src__pg__leads WHERE NOT __deleted ORDER BY id`,
		Input{Table: "src__pg__leads", Schema: s, Rows: rows})
	want := [][]any{{int64(1), "c", dec(150)}, {int64(2), "u", dec(-325)}, {int64(4), "r", dec(1)}}
	if len(res.Rows) != len(want) {
		t.Fatalf("rows %v, want %v", res.Rows, want)
	}
	for i := range want {
		for j := range want[i] {
			if show(res.Rows[i][j]) != show(want[i][j]) {
				t.Fatalf("row %d = %v, want %v", i, res.Rows[i], want[i])
			}
		}
	}
}

func TestUnwrapModes(t *testing.T) {
	plain := `{"type":"record","name":"P","fields":[{"name":"before","type":"string"},{"name":"op","type":"string"}]}`
	tests := []struct {
		name, schema, unwrap string
		envelope             bool
		cols                 []Column
		err                  bool
	}{
		{"auto unwraps", envelopeSchema, "", true, nil, false},
		{"debezium unwraps", envelopeSchema, UnwrapDebezium, true, nil, false},
		{"none keeps the envelope", envelopeSchema, UnwrapNone, false, []Column{{"before", "JSON"}, {"after", "JSON"},
			{"source", "JSON"}, {"op", "VARCHAR"}, {"ts_ms", "BIGINT"}, {"unchanged", "JSON"}}, false},
		{"auto leaves other records", plain, UnwrapAuto, false, []Column{{"before", "VARCHAR"}, {"op", "VARCHAR"}}, false},
		{"debezium requires an envelope", plain, UnwrapDebezium, false, nil, true},
		{"unknown mode", envelopeSchema, "yes", false, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewInputSchema(tt.schema, tt.unwrap)
			if tt.err {
				if !errors.Is(err, ErrSchema) {
					t.Fatalf("err = %v, want ErrSchema", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Envelope != tt.envelope || tt.cols != nil && !reflect.DeepEqual(s.Columns, tt.cols) {
				t.Fatalf("envelope %v columns %v, want %v %v", s.Envelope, s.Columns, tt.envelope, tt.cols)
			}
		})
	}
}

func TestInputSchemaErrors(t *testing.T) {
	tests := []struct{ name, schema, msg string }{
		{"not json", `{"type":`, "parse json"},
		{"not a record", `"string"`, "not a record"},
		{"unknown type", `{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}`, `unknown type "Nope"`},
		{"union in union", `{"type":"record","name":"R","fields":[{"name":"a","type":["null",["int"]]}]}`, "union directly inside"},
		{"fixed without size", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"fixed","name":"F"}}]}`, "fixed without"},
		{"duplicate field", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]}`, "duplicate field"},
		{"type defined twice", `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":["X"]}},
			{"name":"b","type":{"type":"enum","name":"E","symbols":["Y"]}}]}`, "defined twice"},
		{"envelope column collision", strings.Replace(envelopeSchema, `{"name":"id","type":"long"}`,
			`{"name":"__op","type":"long"}`, 1), "collides"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewInputSchema(tt.schema, UnwrapAuto)
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrSchema containing %q", err, tt.msg)
			}
		})
	}
}

// TestInvalidLogicalTypesIgnored follows the specification: a logical type
// that does not fit its type leaves the underlying type.
func TestInvalidLogicalTypesIgnored(t *testing.T) {
	tests := []struct{ avroType, column string }{
		{`{"type":"string","logicalType":"date"}`, "VARCHAR"},
		{`{"type":"bytes","logicalType":"decimal","precision":2,"scale":3}`, "BLOB"},
		{`{"type":"fixed","name":"F","size":2,"logicalType":"decimal","precision":9,"scale":0}`, "BLOB"},
		{`{"type":"long","logicalType":"something-new"}`, "BIGINT"},
		{`{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}`, "VARCHAR"},
	}
	for _, tt := range tests {
		t.Run(tt.avroType, func(t *testing.T) {
			s := inputSchema(t, `{"type":"record","name":"R","fields":[{"name":"v","type":`+tt.avroType+`}]}`, UnwrapNone)
			if s.Columns[0].Type != tt.column {
				t.Fatalf("type %s, want %s", s.Columns[0].Type, tt.column)
			}
		})
	}
}
