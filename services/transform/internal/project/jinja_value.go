package project

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Template values are nil (None), bool, int64, float64, string, []any,
// *dict and relValue (what ref() and source() return).

// dict is an insertion-ordered Jinja dict.
type dict struct{ keys, vals []any }

// relValue is a resolved relation; it renders as its identifier text.
type relValue struct{ text string }

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case *dict:
		return "dict"
	case relValue:
		return "relation"
	}
	return fmt.Sprintf("%T", v)
}

func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case int64:
		return t != 0
	case float64:
		return t != 0
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case *dict:
		return len(t.keys) > 0
	}
	return true
}

// number reports v as a number; bools count as 0 and 1, like Python.
func number(v any) (i int64, f float64, isInt, ok bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return 1, 1, true, true
		}
		return 0, 0, true, true
	case int64:
		return t, float64(t), true, true
	case float64:
		return 0, t, false, true
	}
	return 0, 0, false, false
}

// pyFloat formats a float like Python's repr: 1.0, 0.5, 1e+16, 1e-05.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyQuote is Python's repr of a string.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// fromGo converts a Go value (Options.Vars, YAML vars, env defaults) into a
// template value.
func fromGo(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, int64, float64, string, relValue, *dict:
		return t, nil
	case int:
		return int64(t), nil
	case int8:
		return int64(t), nil
	case int16:
		return int64(t), nil
	case int32:
		return int64(t), nil
	case uint8:
		return int64(t), nil
	case uint16:
		return int64(t), nil
	case uint32:
		return int64(t), nil
	case uint:
		if uint64(t) > math.MaxInt64 {
			return nil, fmt.Errorf("%d does not fit an int", t)
		}
		return int64(t), nil
	case uint64:
		if t > math.MaxInt64 {
			return nil, fmt.Errorf("%d does not fit an int", t)
		}
		return int64(t), nil
	case float32:
		return float64(t), nil
	case time.Time:
		return t.Format(time.RFC3339Nano), nil
	case time.Duration:
		return t.String(), nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			c, err := fromGo(x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			c, err := fromGo(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		type entry struct {
			k    any
			text string
			v    any
		}
		var entries []entry
		iter := rv.MapRange()
		for iter.Next() {
			k, err := fromGo(iter.Key().Interface())
			if err != nil {
				return nil, err
			}
			val, err := fromGo(iter.Value().Interface())
			if err != nil {
				return nil, err
			}
			entries = append(entries, entry{k, fmt.Sprint(k), val})
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].text < entries[j].text })
		d := &dict{}
		for _, e := range entries {
			d.keys, d.vals = append(d.keys, e.k), append(d.vals, e.v)
		}
		return d, nil
	case reflect.String:
		return rv.String(), nil
	}
	return nil, fmt.Errorf("a %T cannot be used in a template", v)
}

// toGo converts a template value into plain Go for config(): dicts become
// map[string]any (keys must be strings), lists []any.
func toGo(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			c, err := toGo(x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case *dict:
		out := make(map[string]any, len(t.keys))
		for i, k := range t.keys {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("dict key %v is a %s, not a string", k, typeName(k))
			}
			c, err := toGo(t.vals[i])
			if err != nil {
				return nil, err
			}
			out[ks] = c
		}
		return out, nil
	case relValue:
		return nil, fmt.Errorf("a relation (%s) is not a config value", t.text)
	}
	return v, nil
}
