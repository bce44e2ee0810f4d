package pgtypes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// equalValue compares two value forms: exact for numbers, instants for times.
func equalValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case *big.Rat:
		y, ok := b.(*big.Rat)
		return ok && x.Cmp(y) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && y.Location() == time.UTC
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y) && y != nil
	case float32:
		y, ok := b.(float32)
		return ok && (x == y && math.Signbit(float64(x)) == math.Signbit(float64(y)) || x != x && y != y)
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || x != x && y != y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || y == nil {
			return false
		}
		for i := range x {
			if !equalValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValue(v, w) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// show prints a value form for failure messages.
func show(v any) string {
	switch x := v.(type) {
	case *big.Rat:
		return "rat " + x.RatString()
	case []any:
		s := "["
		for i, e := range x {
			if i > 0 {
				s += ", "
			}
			s += show(e)
		}
		return s + "]"
	case time.Time:
		return x.Format(time.RFC3339Nano) + " " + x.Location().String()
	default:
		return fmt.Sprintf("%T(%#v)", v, v)
	}
}

// branch is goavro's name of a union branch of schema t.
func branch(t any) string {
	switch x := t.(type) {
	case string:
		return x
	case map[string]any:
		typ, _ := x["type"].(string)
		if typ == "record" {
			return x["namespace"].(string) + "." + x["name"].(string)
		}
		switch lt, _ := x["logicalType"].(string); lt {
		case "decimal", "date", "time-millis", "time-micros", "timestamp-millis", "timestamp-micros":
			return typ + "." + lt // goavro names the union branches of these logical types so
		}
		return typ
	}
	panic(fmt.Sprintf("branch of %T", t))
}

// wrap turns a value of schema t into goavro's native form for the union ["null", t].
func wrap(t, v any) any {
	if v == nil {
		return nil
	}
	if m, ok := t.(map[string]any); ok && m["type"] == "array" {
		items := m["items"].([]any)[1]
		in := v.([]any)
		out := make([]any, len(in))
		for i, e := range in {
			out[i] = wrap(items, e)
		}
		return goavro.Union("array", out)
	}
	return goavro.Union(branch(t), v)
}

// unwrap undoes goavro's union wrapping of decoded values of schema t.
func unwrap(t, v any) any {
	if v == nil {
		return nil
	}
	m := v.(map[string]any)
	var inner any
	for _, x := range m {
		inner = x
	}
	if s, ok := t.(map[string]any); ok && s["type"] == "array" {
		items := s["items"].([]any)[1]
		in := inner.([]any)
		out := make([]any, len(in))
		for i, e := range in {
			out[i] = unwrap(items, e)
		}
		return out
	}
	return inner
}

// dedupeNamed replaces every definition of a named type after the first by its full name,
// as a schema with several unconstrained numeric columns needs.
func dedupeNamed(t any, seen map[string]bool) any {
	switch x := t.(type) {
	case map[string]any:
		if x["type"] == "record" {
			full := x["namespace"].(string) + "." + x["name"].(string)
			if seen[full] {
				return full
			}
			seen[full] = true
			return x
		}
		if x["type"] == "array" {
			items := x["items"].([]any)
			return map[string]any{"type": "array", "items": []any{items[0], dedupeNamed(items[1], seen)}}
		}
	}
	return t
}

// roundTrip encodes row (column → value form) with a record schema whose fields are the
// nullable types, decodes it, and checks every value comes back equal.
func roundTrip(t *testing.T, names []string, types []any, rows []map[string]any) {
	t.Helper()
	seen := map[string]bool{}
	fields := make([]any, len(names))
	for i, n := range names {
		fields[i] = map[string]any{"name": n, "type": []any{"null", dedupeNamed(types[i], seen)}, "default": nil}
	}
	js, err := json.Marshal(map[string]any{"type": "record", "name": "Row", "namespace": "test", "fields": fields})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(string(js))
	if err != nil {
		t.Fatalf("schema %s: %v", js, err)
	}
	for r, row := range rows {
		native := map[string]any{}
		for i, n := range names {
			native[n] = wrap(types[i], row[n])
		}
		bin, err := codec.BinaryFromNative(nil, native)
		if err != nil {
			t.Fatalf("row %d: encode: %v", r, err)
		}
		back, rest, err := codec.NativeFromBinary(bin)
		if err != nil || len(rest) != 0 {
			t.Fatalf("row %d: decode: %v (rest %d)", r, err, len(rest))
		}
		got := back.(map[string]any)
		for i, n := range names {
			v := unwrap(types[i], got[n])
			if !equalValue(row[n], v) {
				t.Errorf("row %d column %s: avro round trip gave %s, want %s", r, n, show(v), show(row[n]))
			}
		}
	}
}
