package duck

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/linkedin/goavro/v2"
)

func TestOutputSchemaJSON(t *testing.T) {
	cols := []OutputColumn{{"id", "BIGINT"}, {"email", "VARCHAR"}, {"amount", "DECIMAL(12,2)"},
		{"day", "DATE"}, {"at", "TIMESTAMP WITH TIME ZONE"}, {"info", `STRUCT("a" INTEGER)`}}
	o, err := NewOutputSchema("stg_leads", "riacho.staging", cols, map[string]bool{"email": true, "id": true})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"record","name":"stg_leads","namespace":"riacho.staging","fields":[` +
		`{"name":"id","type":["null","string"],"default":null},` +
		`{"name":"email","type":["null","string"],"default":null},` +
		`{"name":"amount","type":["null",{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}],"default":null},` +
		`{"name":"day","type":["null",{"type":"int","logicalType":"date"}],"default":null},` +
		`{"name":"at","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},` +
		`{"name":"info","type":["null","string"],"default":null}]}`
	if o.JSON() != want {
		t.Fatalf("schema\n%s\nwant\n%s", o.JSON(), want)
	}
	again, err := NewOutputSchema("stg_leads", "riacho.staging", append([]OutputColumn(nil), cols...),
		map[string]bool{"id": true, "email": true})
	if err != nil || again.JSON() != o.JSON() {
		t.Fatalf("same columns gave a different schema: %v\n%s", err, again.JSON())
	}
	codecOf(t, o.JSON()) // goavro accepts it
	for name, want := range map[string]int{"id": 0, "info": 5, "missing": -1} {
		if got := o.Index(name); got != want {
			t.Errorf("Index(%s) = %d, want %d", name, got, want)
		}
	}
	noNS, err := NewOutputSchema("m", "", cols[:1], nil)
	if err != nil || strings.Contains(noNS.JSON(), "namespace") {
		t.Fatalf("schema without namespace: %v %s", err, noNS.JSON())
	}
}

func TestOutputSchemaErrors(t *testing.T) {
	tests := []struct {
		name, record, namespace string
		cols                    []OutputColumn
		msg                     string
	}{
		{"bad record name", "stg-leads", "", []OutputColumn{{"a", "VARCHAR"}}, "record name"},
		{"bad namespace", "m", "riacho..x", []OutputColumn{{"a", "VARCHAR"}}, "namespace"},
		{"computed column without alias", "m", "", []OutputColumn{{"lower(email)", "VARCHAR"}}, "alias it"},
		{"column starting with a digit", "m", "", []OutputColumn{{"1a", "VARCHAR"}}, "not an Avro name"},
		{"duplicate column", "m", "", []OutputColumn{{"a", "VARCHAR"}, {"a", "BIGINT"}}, "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOutputSchema(tt.record, tt.namespace, tt.cols, nil)
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrSchema containing %q", err, tt.msg)
			}
		})
	}
}

// TestEncodeValues writes values of the Go types Run returns (and the ones a
// masker returns) and reads them back with goavro.
func TestEncodeValues(t *testing.T) {
	sp := time.FixedZone("BRT", -3*3600)
	tests := []struct {
		name     string
		duckType string
		masked   bool
		value    any
		want     any // goavro native
	}{
		{"masked int as text", "BIGINT", true, int64(12345), goavro.Union("string", "12345")},
		{"masked string", "VARCHAR", true, "****1234", goavro.Union("string", "****1234")},
		{"masked time as text", "TIMESTAMPTZ", true, time.Date(2024, 1, 2, 0, 0, 0, 0, sp),
			goavro.Union("string", "2024-01-02T03:00:00Z")},
		{"masked decimal as text", "DECIMAL(5,2)", true, duckdb.Decimal{Width: 5, Scale: 2, Value: big.NewInt(-5)},
			goavro.Union("string", "-0.05")},
		{"masked null", "VARCHAR", true, nil, nil},
		{"int from int16", "SMALLINT", false, int16(-3), goavro.Union("int", int32(-3))},
		{"long from uint32", "UINTEGER", false, uint32(4000000000), goavro.Union("long", int64(4000000000))},
		{"double from float32", "DOUBLE", false, float32(0.5), goavro.Union("double", 0.5)},
		{"timestamptz from another zone", "TIMESTAMPTZ", false, time.Date(2024, 1, 2, 0, 0, 0, 0, sp),
			goavro.Union("long.timestamp-micros", utc("2024-01-02T03:00:00Z"))},
		{"date from another zone keeps the calendar day", "DATE", false, time.Date(2024, 1, 2, 23, 0, 0, 0, sp),
			goavro.Union("int.date", day("2024-01-02"))},
		{"decimal rescaled up", "DECIMAL(6,3)", false, duckdb.Decimal{Width: 4, Scale: 1, Value: big.NewInt(125)},
			goavro.Union("bytes.decimal", rat("12.5"))},
		{"decimal from int64", "DECIMAL(10,0)", false, int64(-129), goavro.Union("bytes.decimal", rat("-129"))},
		{"decimal boundary", "DECIMAL(18,0)", false, int64(-999999999999999999),
			goavro.Union("bytes.decimal", rat("-999999999999999999"))},
		{"decimal 38 digits", "DECIMAL(38,0)", false, bigInt("-99999999999999999999999999999999999999"),
			goavro.Union("bytes.decimal", rat("-99999999999999999999999999999999999999"))},
		{"uuid from bytes", "UUID", false, []byte{0x0b, 0x8a, 0x1c, 0x2e, 0x3f, 0x4d, 0x4e, 0x5f, 0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x5b},
			goavro.Union("string", "0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b")},
		{"bytes from string", "BLOB", false, "ab", goavro.Union("bytes", []byte("ab"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := NewOutputSchema("m", "", []OutputColumn{{"v", tt.duckType}}, map[string]bool{"v": tt.masked})
			if err != nil {
				t.Fatal(err)
			}
			body, err := o.Encode(nil, []any{tt.value})
			if err != nil {
				t.Fatal(err)
			}
			got := goavroDecode(t, codecOf(t, o.JSON()), body)
			if show(got["v"]) != show(tt.want) {
				t.Fatalf("read back %s, want %s", show(got["v"]), show(tt.want))
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		duckType string
		row      []any
		msg      string
	}{
		{"too few values", "BIGINT", []any{}, "0 values"},
		{"string for a long", "BIGINT", []any{"1"}, "not an integer"},
		{"overflowing int", "INTEGER", []any{int64(1) << 40}, "does not fit"},
		{"bool for a date", "DATE", []any{true}, "not a time.Time"},
		{"int for a bool", "BOOLEAN", []any{1}, "not a bool"},
		{"too many digits", "DECIMAL(4,2)", []any{duckdb.Decimal{Width: 5, Scale: 2, Value: big.NewInt(12345)}}, "more than 4 digits"},
		{"digits lost by rescaling", "DECIMAL(6,1)", []any{duckdb.Decimal{Width: 6, Scale: 2, Value: big.NewInt(1234)}}, "loses digits"},
		{"big decimal too wide", "DECIMAL(20,0)", []any{bigInt("123456789012345678901")}, "more than 20 digits"},
		{"short uuid", "UUID", []any{[]byte{1}}, "not a UUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := NewOutputSchema("m", "", []OutputColumn{{"v", tt.duckType}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			dst := []byte("keep")
			out, err := o.Encode(dst, tt.row)
			if !errors.Is(err, ErrEncode) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrEncode containing %q", err, tt.msg)
			}
			if string(out) != "keep" {
				t.Fatalf("dst after a failed Encode = %q, want it unchanged", out)
			}
		})
	}
}

// TestEncodeAppends checks that Encode appends to dst, so one buffer serves
// many rows.
func TestEncodeAppends(t *testing.T) {
	o, err := NewOutputSchema("m", "", []OutputColumn{{"a", "BIGINT"}, {"b", "VARCHAR"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	codec := codecOf(t, o.JSON())
	buf, err := o.Encode(nil, []any{int64(-1), "x"})
	if err != nil {
		t.Fatal(err)
	}
	first := len(buf)
	if buf, err = o.Encode(buf, []any{nil, "y"}); err != nil {
		t.Fatal(err)
	}
	one := goavroDecode(t, codec, buf[:first])
	two := goavroDecode(t, codec, buf[first:])
	if show(one["a"]) != show(goavro.Union("long", int64(-1))) || two["a"] != nil || show(two["b"]) != show(goavro.Union("string", "y")) {
		t.Fatalf("decoded %v and %v", one, two)
	}
}
