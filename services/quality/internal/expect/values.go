package expect

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// isNull reports whether v is null: nil, a nil decimal or a float NaN.
func isNull(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case float64:
		return math.IsNaN(x)
	case float32:
		return math.IsNaN(float64(x))
	case *big.Rat:
		return x == nil
	}
	return false
}

// numKind distinguishes the representations a num holds.
type numKind uint8

const (
	numInt numKind = iota + 1
	numFloat
	numRat
)

// num is a number from a row or a kwarg.
type num struct {
	kind numKind
	i    int64
	f    float64
	r    *big.Rat // exact form: always set for numRat, set for bounds
}

// toNum converts the numeric Go types to a num.
func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case int64:
		return num{kind: numInt, i: x}, true
	case int:
		return num{kind: numInt, i: int64(x)}, true
	case int32:
		return num{kind: numInt, i: int64(x)}, true
	case int16:
		return num{kind: numInt, i: int64(x)}, true
	case int8:
		return num{kind: numInt, i: int64(x)}, true
	case uint32:
		return num{kind: numInt, i: int64(x)}, true
	case uint16:
		return num{kind: numInt, i: int64(x)}, true
	case uint8:
		return num{kind: numInt, i: int64(x)}, true
	case uint64:
		if x <= math.MaxInt64 {
			return num{kind: numInt, i: int64(x)}, true
		}
		return num{kind: numFloat, f: float64(x)}, true
	case float64:
		return num{kind: numFloat, f: x}, true
	case float32:
		return num{kind: numFloat, f: float64(x)}, true
	case *big.Rat:
		if x == nil {
			return num{}, false
		}
		return num{kind: numRat, r: x}, true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return num{kind: numInt, i: i}, true
		}
		if f, err := x.Float64(); err == nil {
			return num{kind: numFloat, f: f}, true
		}
	}
	return num{}, false
}

// exact returns n with its exact rational form filled in (for bounds, so
// that decimals compare exactly against what the suite author wrote).
func (n num) exact() num {
	switch n.kind {
	case numInt:
		n.r = new(big.Rat).SetInt64(n.i)
	case numFloat:
		if !math.IsInf(n.f, 0) && !math.IsNaN(n.f) {
			n.r, _ = new(big.Rat).SetString(strconv.FormatFloat(n.f, 'g', -1, 64))
		}
	}
	return n
}

// float returns n as a float64.
func (n num) float() float64 {
	switch n.kind {
	case numInt:
		return float64(n.i)
	case numRat:
		f, _ := n.r.Float64()
		return f
	}
	return n.f
}

// rat returns n as a rational, allocating unless n already has one.
func (n num) rat() *big.Rat {
	if n.r != nil {
		return n.r
	}
	if n.kind == numInt {
		return new(big.Rat).SetInt64(n.i)
	}
	if r, ok := new(big.Rat).SetString(strconv.FormatFloat(n.f, 'g', -1, 64)); ok {
		return r
	}
	return new(big.Rat)
}

// cmpNum compares a and b (-1, 0, +1).
func cmpNum(a, b num) int {
	switch {
	case a.kind == numInt && b.kind == numInt:
		return cmpOrdered(a.i, b.i)
	case a.kind != numRat && b.kind != numRat:
		return cmpOrdered(a.float(), b.float())
	}
	if a.kind == numFloat && math.IsInf(a.f, 0) {
		return cmpOrdered(a.f, 0)
	}
	if b.kind == numFloat && math.IsInf(b.f, 0) {
		return -cmpOrdered(b.f, 0)
	}
	return a.rat().Cmp(b.rat())
}

// cmpOrdered compares two ordered values.
func cmpOrdered[T int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseTime parses ISO 8601 dates and timestamps; naive ones are UTC.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 || s[4] != '-' {
		return time.Time{}, false
	}
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// scalarKind is the kind of a literal in a kwarg or condition.
type scalarKind uint8

const (
	sNull scalarKind = iota
	sNum
	sStr
	sBool
	sTime
)

// scalar is a bound or literal, prepared once at compile time.
type scalar struct {
	kind    scalarKind
	n       num
	s       string
	b       bool
	t       time.Time
	hasTime bool // a string that also reads as a time
}

// newScalar prepares v (a kwarg or literal value).
func newScalar(v any) (scalar, bool) {
	if isNull(v) {
		return scalar{kind: sNull}, true
	}
	if n, ok := toNum(v); ok {
		return scalar{kind: sNum, n: n.exact()}, true
	}
	switch x := v.(type) {
	case string:
		sc := scalar{kind: sStr, s: x}
		sc.t, sc.hasTime = parseTime(x)
		return sc, true
	case bool:
		return scalar{kind: sBool, b: x}, true
	case time.Time:
		return scalar{kind: sTime, t: x.UTC(), hasTime: true}, true
	}
	return scalar{}, false
}

// compare compares the row value v to s, returning sign(v − s); ok is false
// when the two cannot be ordered (different kinds, null).
func (s *scalar) compare(v any, stringsAsTimes bool) (int, bool) {
	switch x := v.(type) {
	case string:
		if stringsAsTimes && s.hasTime {
			if t, ok := parseTime(x); ok {
				return t.Compare(s.t), true
			}
			return 0, false
		}
		if s.kind == sStr {
			return strings.Compare(x, s.s), true
		}
		return 0, false
	case time.Time:
		if s.hasTime {
			return x.Compare(s.t), true
		}
		return 0, false
	case bool:
		if s.kind == sBool {
			return cmpBool(x, s.b), true
		}
		return 0, false
	}
	if s.kind != sNum || isNull(v) {
		return 0, false
	}
	n, ok := toNum(v)
	if !ok {
		return 0, false
	}
	return cmpNum(n, s.n), true
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// compareValues orders two row values of the same kind.
func compareValues(a, b any) (int, bool) {
	if isNull(a) || isNull(b) {
		return 0, false
	}
	sc, ok := newScalarFast(b)
	if !ok {
		return 0, false
	}
	return sc.compare(a, false)
}

// newScalarFast is newScalar without exact forms or time parsing of strings.
func newScalarFast(v any) (scalar, bool) {
	if n, ok := toNum(v); ok {
		return scalar{kind: sNum, n: n}, true
	}
	switch x := v.(type) {
	case string:
		return scalar{kind: sStr, s: x}, true
	case bool:
		return scalar{kind: sBool, b: x}, true
	case time.Time:
		return scalar{kind: sTime, t: x, hasTime: true}, true
	}
	return scalar{}, false
}
