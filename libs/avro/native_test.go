package avro_test

import (
	"math/big"
	"reflect"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/riacho/riacho/libs/avro"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string // FormatDecimal at scale, "" for an error
	}{
		{"1234.50", 2, "1234.50"},
		{"-0.01", 2, "-0.01"},
		{"7", 2, "7.00"},
		{" 10.5 ", 2, "10.50"},
		{"99999999999999999.99", 2, "99999999999999999.99"},
		{"1.005", 2, ""}, // goavro would silently store 1.00
		{"1e3", 2, ""},
		{"1/3", 2, ""},
		{"1.234,56", 2, ""},
		{"", 2, ""},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := avro.ParseDecimal(tt.in, tt.scale)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseDecimal(%q) = %v, want an error", tt.in, r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := avro.FormatDecimal(r, tt.scale); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestDecimalSurvivesAvro checks money keeps every cent through goavro.
func TestDecimalSurvivesAvro(t *testing.T) {
	codec, err := goavro.NewCodec(`{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"0.10", "-1234.56", "99999999999999999.99", "0.01"} {
		r, err := avro.ParseDecimal(s, 2)
		if err != nil {
			t.Fatal(err)
		}
		bin, err := codec.BinaryFromNative(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := codec.NativeFromBinary(bin)
		if err != nil {
			t.Fatal(err)
		}
		if got := avro.FormatDecimal(back.(*big.Rat), 2); got != s {
			t.Fatalf("%s came back as %s", s, got)
		}
	}
}

func TestUnionHelpers(t *testing.T) {
	if got := avro.Union("string", "x"); !reflect.DeepEqual(got, map[string]any{"string": "x"}) {
		t.Fatalf("Union = %#v", got)
	}
	if got := avro.Union("null", nil); got != nil {
		t.Fatalf("Union(null) = %#v", got)
	}
	if got := avro.Nullable("long", nil); got != nil {
		t.Fatalf("Nullable(nil) = %#v", got)
	}
	if got := avro.Nullable("long", int64(3)); !reflect.DeepEqual(got, map[string]any{"long": int64(3)}) {
		t.Fatalf("Nullable(3) = %#v", got)
	}
}
