package expect

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// keyKind tags the comparable form of a value.
type keyKind uint8

const (
	kStr keyKind = iota + 1
	kInt
	kFloat
	kBool
	kTime
	kBytes
)

// setKey is the comparable form of a non-null value: numbers that are equal
// (1, 1.0, decimal 1) share one key, as they compare equal in Python.
type setKey struct {
	k keyKind
	s string
	n int64
	f float64
}

// keyOf returns v's comparable form; false for nulls and unsupported types.
func keyOf(v any) (setKey, bool) {
	switch x := v.(type) {
	case string:
		return setKey{k: kStr, s: x}, true
	case bool:
		if x {
			return setKey{k: kBool, n: 1}, true
		}
		return setKey{k: kBool}, true
	case time.Time:
		return setKey{k: kTime, n: x.Unix(), f: float64(x.Nanosecond())}, true
	case []byte:
		return setKey{k: kBytes, s: string(x)}, true
	case *big.Rat:
		if x == nil {
			return setKey{}, false
		}
		if x.IsInt() && x.Num().IsInt64() {
			return setKey{k: kInt, n: x.Num().Int64()}, true
		}
		f, _ := x.Float64()
		return floatKey(f)
	}
	n, ok := toNum(v)
	if !ok {
		return setKey{}, false
	}
	if n.kind == numInt {
		return setKey{k: kInt, n: n.i}, true
	}
	return floatKey(n.f)
}

// floatKey keys integral floats as integers.
func floatKey(f float64) (setKey, bool) {
	if math.IsNaN(f) {
		return setKey{}, false
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return setKey{k: kInt, n: int64(f)}, true
	}
	return setKey{k: kFloat, f: f}, true
}

// valueSet is a set of values prepared for allocation-free lookups.
type valueSet map[setKey]struct{}

// newValueSet builds a set from a value_set kwarg; strings that read as
// ISO dates or timestamps also match equal time values.
func newValueSet(values []any) (valueSet, error) {
	set := make(valueSet, len(values))
	for i, v := range values {
		if isNull(v) {
			continue
		}
		k, ok := keyOf(v)
		if !ok {
			return nil, fmt.Errorf("element %d: unsupported value %T", i, v)
		}
		set[k] = struct{}{}
		if s, isStr := v.(string); isStr {
			if t, ok := parseTime(s); ok {
				tk, _ := keyOf(t)
				set[tk] = struct{}{}
			}
		}
	}
	return set, nil
}

// has reports whether v is in the set; nulls never are.
func (s valueSet) has(v any) bool {
	k, ok := keyOf(v)
	if !ok {
		return false
	}
	_, in := s[k]
	return in
}

// Key is the canonical string form of a value used for dbt relationships
// key sets (Batch.Lookup): numbers that are equal share one key.
func Key(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	k, ok := keyOf(v)
	if !ok {
		return fmt.Sprint(v)
	}
	switch k.k {
	case kInt:
		return strconv.FormatInt(k.n, 10)
	case kFloat:
		return strconv.FormatFloat(k.f, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
