package avro

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/linkedin/goavro/v2"
)

// Union wraps v as the branch typeName of an Avro union, as goavro wants
// it: Union("string", "x") is map[string]any{"string": "x"}; Union("null",
// nil) is nil. Named types use their full name ("com.acme.Address"); a
// decimal logical type on bytes is "bytes.decimal".
func Union(typeName string, v any) any {
	return goavro.Union(typeName, v)
}

// Nullable is the value of a ["null", typeName] union: nil when v is nil,
// else Union(typeName, v).
func Nullable(typeName string, v any) any {
	if v == nil {
		return nil
	}
	return goavro.Union(typeName, v)
}

// ParseDecimal parses a decimal number such as "-1234.50" into the *big.Rat
// goavro encodes for the decimal logical type, exactly and without floats.
// It fails if s has more fractional digits than scale, because goavro would
// silently drop them (rounding towards minus infinity); "1.234,56"-style
// input must be normalised first.
func ParseDecimal(s string, scale int) (*big.Rat, error) {
	t := strings.TrimSpace(s)
	if t == "" || strings.ContainsAny(t, "eE/") {
		return nil, fmt.Errorf("decimal %q: want digits with an optional '.' fraction", s)
	}
	if i := strings.IndexByte(t, '.'); i >= 0 && len(t)-i-1 > scale {
		return nil, fmt.Errorf("decimal %q: more than %d fractional digits", s, scale)
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return nil, fmt.Errorf("decimal %q: not a number", s)
	}
	return r, nil
}

// FormatDecimal formats r with exactly scale fractional digits, the inverse
// of ParseDecimal for values decoded from a decimal(precision, scale).
func FormatDecimal(r *big.Rat, scale int) string {
	return r.FloatString(scale)
}
