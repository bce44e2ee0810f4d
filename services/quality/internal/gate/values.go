package gate

import (
	"math/big"
	"time"
)

// plainRecord converts a decoded record's fields in place (the map is the
// decoder's own, so no copy is needed).
func plainRecord(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	for k, inner := range m {
		m[k] = plain(inner)
	}
	return m, true
}

// plain turns a goavro native record into the row values expectations
// see: unions unwrapped, ints widened to int64, floats to float64; times,
// decimals (*big.Rat), strings, booleans and bytes as they are; nested
// records, arrays and maps kept as plain Go maps and slices.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				if isUnionBranch(k) {
					return plain(inner)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, inner := range x {
			out[k] = plain(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = plain(inner)
		}
		return out
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC()
	case *big.Rat, string, bool, int64, float64, []byte, nil:
		return x
	default:
		return x
	}
}

// isUnionBranch reports whether k names an Avro type, as goavro keys a
// union's value by its branch.
func isUnionBranch(k string) bool {
	switch k {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string",
		"int.date", "int.time-millis", "long.time-micros", "long.timestamp-millis", "long.timestamp-micros",
		"long.local-timestamp-millis", "long.local-timestamp-micros", "bytes.decimal", "fixed.decimal", "string.uuid":
		return true
	}
	return false
}
