package poll

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// RawColumn is the column holding the source's original JSON object.
const RawColumn = "_raw"

// ErrBadValue marks a source value that does not fit its configured type.
var ErrBadValue = errors.New("value does not fit its type")

// FieldType is a parsed field type of a REST entity's typed column.
type FieldType struct {
	// Kind is string, long, double, boolean, decimal, date or timestamp.
	Kind string
	// Precision and Scale are set for decimal.
	Precision, Scale int
}

// ParseFieldType parses string, long, double, boolean, decimal(p,s), date or timestamp.
func ParseFieldType(s string) (FieldType, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "string", "long", "double", "boolean", "date", "timestamp":
		return FieldType{Kind: s}, nil
	}
	if rest, ok := strings.CutPrefix(s, "decimal("); ok {
		if inner, ok := strings.CutSuffix(rest, ")"); ok {
			ps, ss, ok := strings.Cut(inner, ",")
			p, err1 := strconv.Atoi(strings.TrimSpace(ps))
			sc, err2 := strconv.Atoi(strings.TrimSpace(ss))
			if ok && err1 == nil && err2 == nil && p >= 1 && p <= 76 && sc >= 0 && sc <= p {
				return FieldType{Kind: "decimal", Precision: p, Scale: sc}, nil
			}
		}
		return FieldType{}, fmt.Errorf("%q: want decimal(p,s) with 1 <= p <= 76 and 0 <= s <= p", s)
	}
	return FieldType{}, fmt.Errorf("unknown type %q (string, long, double, boolean, decimal(p,s), date, timestamp)", s)
}

func (t FieldType) keyable() bool {
	switch t.Kind {
	case "string", "long", "date", "timestamp":
		return true
	}
	return false
}

// Avro is the field's Avro type (the non-null branch) as envelope.Field.Type wants it.
func (t FieldType) Avro() any {
	switch t.Kind {
	case "decimal":
		return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": t.Precision, "scale": t.Scale}
	case "date":
		return map[string]any{"type": "int", "logicalType": "date"}
	case "timestamp":
		return map[string]any{"type": "long", "logicalType": "timestamp-micros"}
	}
	return t.Kind
}

func (t FieldType) String() string {
	if t.Kind == "decimal" {
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	}
	return t.Kind
}

// FromJSON converts v, a value decoded by encoding/json with UseNumber
// (nil, bool, json.Number, string, []any, map[string]any), into the Go form
// of t's Avro type. nil stays nil. A value that does not fit returns an error
// wrapping ErrBadValue. loc is the zone of timestamps written without an
// offset.
func (t FieldType) FromJSON(v any, loc *time.Location) (any, error) {
	if v == nil {
		return nil, nil
	}
	out, err := t.fromJSON(v, loc)
	if err != nil {
		return nil, fmt.Errorf("%w: %s from %s: %w", ErrBadValue, t, describe(v), err)
	}
	return out, nil
}

func (t FieldType) fromJSON(v any, loc *time.Location) (any, error) {
	switch t.Kind {
	case "string":
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		default:
			b, err := json.Marshal(x)
			return string(b), err
		}
	case "long":
		s, ok := numberText(v)
		if !ok {
			return nil, errors.New("not a number")
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("not an integer in range")
		}
		return n, nil
	case "double":
		s, ok := numberText(v)
		if !ok {
			return nil, errors.New("not a number")
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errors.New("not a finite number")
		}
		return f, nil
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(x) {
			case "tyes", "true", "y", "yes", "1":
				return true, nil
			case "tno", "false", "n", "no", "0":
				return false, nil
			}
		case json.Number:
			switch x.String() {
			case "1":
				return true, nil
			case "0":
				return false, nil
			}
		}
		return nil, errors.New("not a boolean (true/false, tYES/tNO)")
	case "decimal":
		s, ok := numberText(v)
		if !ok {
			return nil, errors.New("not a number")
		}
		return ParseDecimal(s, t.Precision, t.Scale)
	case "date":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("not a string")
		}
		return ParseDate(s)
	case "timestamp":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("not a string")
		}
		return ParseTimestamp(s, loc)
	}
	return nil, fmt.Errorf("unknown kind %q", t.Kind)
}

func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case string:
		s := strings.TrimSpace(x)
		return s, s != ""
	}
	return "", false
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// maxDecimalText bounds the text ParseDecimal accepts, so an exponent such
// as 1e999999999 cannot make it allocate without bound.
const maxDecimalText = 128

// ParseDecimal parses a decimal number exactly, rounds it half away from zero
// to scale digits and checks it fits precision digits.
func ParseDecimal(s string, precision, scale int) (*big.Rat, error) {
	if len(s) > maxDecimalText || strings.Trim(s, "0123456789+-.eE") != "" || strings.ContainsAny(s, "eE") && !plainExponent(s) {
		return nil, fmt.Errorf("%.40q is not a decimal number", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%.40q is not a decimal number", s)
	}
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(pow))
	num, den := scaled.Num(), scaled.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Sign() != 0 {
		// Half away from zero: |2m| >= den.
		if new(big.Int).Abs(new(big.Int).Lsh(m, 1)).Cmp(den) >= 0 {
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	if new(big.Int).Abs(q).Cmp(limit) >= 0 {
		return nil, fmt.Errorf("%.40q has more than %d digits (scale %d)", s, precision, scale)
	}
	return new(big.Rat).SetFrac(q, pow), nil
}

// plainExponent accepts a decimal exponent of at most three digits.
func plainExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	exp := strings.TrimLeft(s[i+1:], "+-")
	return len(exp) > 0 && len(exp) <= 3
}

// ParseDate parses "2006-01-02" or a timestamp whose date part is taken as
// written (no zone conversion), returning UTC midnight.
func ParseDate(s string) (time.Time, error) {
	if len(s) >= 10 {
		if t, err := time.Parse("2006-01-02", s[:10]); err == nil && (len(s) == 10 || s[10] == 'T' || s[10] == ' ') {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%.40q is not a date", s)
}

// ParseTimestamp parses an RFC 3339 timestamp (offset optional: without one
// the time is in loc) and returns it in UTC.
func ParseTimestamp(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, l := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%.40q is not an RFC 3339 timestamp", s)
}

// DecodeObject decodes one JSON object keeping numbers exact (json.Number).
func DecodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	if obj == nil {
		return nil, errors.New("decode object: null is not an object")
	}
	if dec.More() {
		return nil, errors.New("decode object: data after the object")
	}
	return obj, nil
}
