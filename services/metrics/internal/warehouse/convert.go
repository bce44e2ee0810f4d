package warehouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/riacho/riacho/services/metrics/internal/store"
)

// decimal is a numeric column value: unscaled * 10^-scale, exact.
type decimal struct {
	unscaled *big.Int
	scale    int
}

func (d decimal) String() string {
	return new(big.Rat).SetFrac(d.unscaled, pow10(d.scale)).FloatString(d.scale)
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// unwrapUnion returns the branch value of an Avro union as goavro decodes
// it (map[string]any{"type": v}); other values are returned as they are.
func unwrapUnion(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, x := range m {
			return x
		}
	}
	return v
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("string %q", x)
	case *big.Rat:
		f := strings.TrimRight(x.FloatString(30), "0")
		return "decimal " + strings.TrimSuffix(f, ".")
	case int32:
		return fmt.Sprintf("int %d", x)
	case int64:
		return fmt.Sprintf("long %d", x)
	case float32, float64:
		return fmt.Sprintf("double %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case time.Time:
		return "time " + x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return fmt.Sprintf("bytes (%d)", len(x))
	case map[string]any:
		return "a record or map"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T %v", v, v)
}

// convertRecord turns a decoded Avro record into t's column values, in
// t.Columns order (dialect-neutral: string, int32, int64, float64, bool,
// time.Time, decimal or nil). Key columns must not be null.
func convertRecord(t *Table, native any) ([]any, error) {
	rec, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("value is %s, not an Avro record", describe(native))
	}
	row := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		raw, ok := rec[c.Field]
		if !ok {
			return nil, fmt.Errorf("column %s: the record has no field %q", c.Name, c.Field)
		}
		v, err := convertValue(c.Type, unwrapUnion(raw))
		if err != nil {
			return nil, fmt.Errorf("column %s (field %s): %w", c.Name, c.Field, err)
		}
		if v == nil && contains(t.Key, c.Name) {
			return nil, fmt.Errorf("key column %s (field %s) is null", c.Name, c.Field)
		}
		row[i] = v
	}
	return row, nil
}

var errNotFit = errors.New("does not fit")

// convertValue converts one Avro native value to a column type.
func convertValue(typ Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func(why string) error {
		if why != "" {
			why = ": " + why
		}
		return fmt.Errorf("%s %w %s%s", describe(v), errNotFit, typ, why)
	}
	switch typ.Base {
	case "text":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case int32:
			s = strconv.FormatInt(int64(x), 10)
		case int64:
			s = strconv.FormatInt(x, 10)
		default:
			return nil, bad("")
		}
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return nil, bad("invalid UTF-8 or a NUL character")
		}
		return s, nil
	case "integer", "bigint":
		var n int64
		switch x := v.(type) {
		case int32:
			n = int64(x)
		case int64:
			n = x
		case string:
			p, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, bad("not an integer")
			}
			n = p
		default:
			return nil, bad("")
		}
		if typ.Base == "integer" {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, bad("out of range")
			}
			return int32(n), nil
		}
		return n, nil
	case "double":
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		}
		return nil, bad("")
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, bad("")
	case "date":
		var tm time.Time
		switch x := v.(type) {
		case time.Time:
			tm = x.UTC()
		case string:
			p, err := time.Parse(time.DateOnly, strings.TrimSpace(x))
			if err != nil {
				return nil, bad("want YYYY-MM-DD")
			}
			tm = p
		default:
			return nil, bad("")
		}
		if !tm.Equal(tm.Truncate(24 * time.Hour)) {
			return nil, bad("has a time of day")
		}
		if tm.Year() < 1 || tm.Year() > 9999 {
			return nil, bad("year out of range")
		}
		return tm, nil
	case "timestamp":
		var tm time.Time
		switch x := v.(type) {
		case time.Time:
			tm = x
		case string:
			p, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(x))
			if err != nil {
				return nil, bad("want RFC 3339")
			}
			tm = p
		default:
			return nil, bad("")
		}
		tm = tm.UTC().Truncate(time.Microsecond)
		if tm.Year() < 1 || tm.Year() > 9999 {
			return nil, bad("year out of range")
		}
		return tm, nil
	case "numeric":
		var r *big.Rat
		switch x := v.(type) {
		case *big.Rat:
			r = x
		case int32:
			r = new(big.Rat).SetInt64(int64(x))
		case int64:
			r = new(big.Rat).SetInt64(x)
		case string:
			s := strings.TrimSpace(x)
			var ok bool
			if s == "" || strings.ContainsAny(s, "eE/") {
				return nil, bad("not a decimal number")
			}
			if r, ok = new(big.Rat).SetString(s); !ok {
				return nil, bad("not a decimal number")
			}
		default:
			return nil, bad("")
		}
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(pow10(typ.Scale)))
		if !scaled.IsInt() {
			return nil, bad(fmt.Sprintf("more than %d fractional digits", typ.Scale))
		}
		u := new(big.Int).Set(scaled.Num())
		if new(big.Int).Abs(u).Cmp(pow10(typ.Precision)) >= 0 {
			return nil, bad(fmt.Sprintf("more than %d integer digits", typ.Precision-typ.Scale))
		}
		return decimal{unscaled: u, scale: typ.Scale}, nil
	}
	return nil, fmt.Errorf("unsupported column type %s", typ)
}

// dbValue renders a neutral value for a dialect's driver.
func dbValue(d store.Dialect, v any) any {
	if dec, ok := v.(decimal); ok {
		if d == store.Postgres {
			return pgtype.Numeric{Int: dec.unscaled, Exp: int32(-dec.scale), Valid: true} //nolint:gosec // scale is at most 38 (numeric(p,s) is validated)
		}
		return dec.String()
	}
	return v
}

// fromDB turns a value read back from either driver into the neutral form.
func fromDB(typ Type, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case pgtype.Numeric:
		if !x.Valid {
			return nil
		}
		r := new(big.Rat).SetInt(x.Int)
		if x.Exp > 0 {
			r.Mul(r, new(big.Rat).SetInt(pow10(int(x.Exp))))
		} else if x.Exp < 0 {
			r.Quo(r, new(big.Rat).SetInt(pow10(int(-x.Exp))))
		}
		out, err := convertValue(typ, r)
		if err != nil {
			return x
		}
		return out
	case duckdb.Decimal:
		r := new(big.Rat).SetFrac(x.Value, pow10(int(x.Scale)))
		out, err := convertValue(typ, r)
		if err != nil {
			return x
		}
		return out
	case time.Time:
		return x.UTC().Truncate(time.Microsecond)
	case int16:
		return fromDB(typ, int64(x))
	case int32:
		if typ.Base == "bigint" {
			return int64(x)
		}
		return x
	case int64:
		if typ.Base == "integer" && x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x)
		}
		return x
	case float32:
		return float64(x)
	}
	return v
}

// canon renders a neutral value as a comparable string.
func canon(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00"
	case string:
		return "s" + x
	case decimal:
		return "n" + x.String()
	case time.Time:
		return "t" + strconv.FormatInt(x.UTC().UnixMicro(), 10)
	case float64:
		return "f" + strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func rowKey(vals []any) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		b.WriteString(canon(v))
	}
	return b.String()
}

func sameRow(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if canon(a[i]) != canon(b[i]) {
			return false
		}
	}
	return true
}

// keyOf returns the key column values of a converted row.
func keyOf(t *Table, row []any) []any {
	out := make([]any, len(t.Key))
	for i, k := range t.Key {
		for j, c := range t.Columns {
			if c.Name == k {
				out[i] = row[j]
			}
		}
	}
	return out
}

// keyFromRecordKey derives a tombstone's key column values from the Kafka
// record key: a decoded Avro record key (keyNative, by field names), a JSON
// object, or, for a one-column key, the key bytes as text.
func keyFromRecordKey(t *Table, key []byte, keyNative any) ([]any, error) {
	if len(key) == 0 {
		return nil, errors.New("tombstone without a record key")
	}
	var fields map[string]any
	switch {
	case keyNative != nil:
		if m, ok := keyNative.(map[string]any); ok {
			fields = m
		} else if len(t.Key) == 1 {
			fields = map[string]any{t.Column(t.Key[0]).Field: keyNative}
		}
	case len(key) > 0 && key[0] == '{':
		d := json.NewDecoder(strings.NewReader(string(key)))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err == nil {
			fields = map[string]any{}
			for k, v := range m {
				if n, ok := v.(json.Number); ok {
					v = n.String()
				}
				fields[k] = v
			}
		}
	}
	if fields == nil {
		if len(t.Key) != 1 {
			return nil, fmt.Errorf("tombstone key %q: a %d-column key needs an Avro or JSON record key", truncate(key), len(t.Key))
		}
		fields = map[string]any{t.Column(t.Key[0]).Field: string(key)}
	}
	out := make([]any, len(t.Key))
	for i, k := range t.Key {
		c := t.Column(k)
		raw, ok := fields[c.Field]
		if !ok {
			return nil, fmt.Errorf("tombstone key %q has no field %q", truncate(key), c.Field)
		}
		v, err := convertValue(c.Type, unwrapUnion(raw))
		if err != nil {
			return nil, fmt.Errorf("tombstone key column %s: %w", k, err)
		}
		if v == nil {
			return nil, fmt.Errorf("tombstone key column %s is null", k)
		}
		out[i] = v
	}
	return out, nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
