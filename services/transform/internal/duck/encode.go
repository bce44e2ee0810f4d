package duck

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Encode appends the Avro binary body of row (values in column order, as
// Run returns them; masked columns may hold any scalar, written as text) to
// dst and returns the extended slice.
func (o *OutputSchema) Encode(dst []byte, row []any) ([]byte, error) {
	if len(row) != len(o.fields) {
		return dst, fmt.Errorf("%w: row has %d values, schema has %d fields", ErrEncode, len(row), len(o.fields))
	}
	start := len(dst)
	for i, v := range row {
		if v == nil {
			dst = append(dst, 0) // branch 0: null
			continue
		}
		dst = append(dst, 2) // branch 1: the value
		var err error
		if dst, err = o.fields[i].encode(dst, v); err != nil {
			return dst[:start], fmt.Errorf("%w: field %s: %w", ErrEncode, o.fields[i].name, err)
		}
	}
	return dst, nil
}

func appendLong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63) //nolint:gosec // zig-zag encoding reinterprets the bits
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

func appendBytes(dst []byte, s string) []byte {
	dst = appendLong(dst, int64(len(s)))
	return append(dst, s...)
}

func (f *ofield) encode(dst []byte, v any) ([]byte, error) {
	switch f.enc {
	case eString:
		if s, ok := v.(string); ok {
			return appendBytes(dst, s), nil
		}
		return appendBytes(dst, text(v)), nil
	case eLong, eInt:
		n, ok := toInt64(v)
		if !ok {
			return dst, fmt.Errorf("%T is not an integer", v)
		}
		if f.enc == eInt && (n < math.MinInt32 || n > math.MaxInt32) {
			return dst, fmt.Errorf("%d does not fit an int", n)
		}
		return appendLong(dst, n), nil
	case eTSMicros, eLocalTSMicros, eDate, eTimeMicros:
		t, ok := v.(time.Time)
		if !ok {
			return dst, fmt.Errorf("%T is not a time.Time", v)
		}
		return appendLong(dst, timeValue(f.enc, t)), nil
	case eBool:
		b, ok := v.(bool)
		if !ok {
			return dst, fmt.Errorf("%T is not a bool", v)
		}
		if b {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case eDouble, eFloat:
		x, ok := toFloat64(v)
		if !ok {
			return dst, fmt.Errorf("%T is not a number", v)
		}
		if f.enc == eFloat {
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(x))), nil
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x)), nil
	case eDecimal:
		return f.appendDecimal(dst, v)
	case eBytes:
		switch b := v.(type) {
		case []byte:
			return appendBytes(dst, string(b)), nil
		case string:
			return appendBytes(dst, b), nil
		}
		return dst, fmt.Errorf("%T is not bytes", v)
	case eUUID:
		switch u := v.(type) {
		case []byte:
			if len(u) == 16 {
				return appendBytes(dst, uuidText(u)), nil
			}
		case duckdb.UUID:
			return appendBytes(dst, uuidText(u[:])), nil
		case string:
			return appendBytes(dst, u), nil
		}
		return dst, fmt.Errorf("%T is not a UUID", v)
	}
	return dst, fmt.Errorf("no encoder for %T", v)
}

// timeValue is t as an Avro date (days), time-micros, timestamp-micros or
// local-timestamp-micros (wall clock read as UTC).
func timeValue(e enc, t time.Time) int64 {
	switch e {
	case eTSMicros:
		return t.UnixMicro()
	case eLocalTSMicros:
		_, off := t.Zone()
		return t.UnixMicro() + int64(off)*1_000_000
	case eDate:
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	h, m, s := t.Clock()
	return int64(h)*3_600_000_000 + int64(m)*60_000_000 + int64(s)*1_000_000 + int64(t.Nanosecond()/1000)
}

func uuidText(b []byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], b[10:])
	return string(buf[:])
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n <= math.MaxInt64 {
			return int64(n), true
		}
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if n, ok := toInt64(v); ok {
		return float64(n), true
	}
	return 0, false
}

// text formats a scalar for a string field (masked columns).
func text(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case json.RawMessage:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case fmt.Stringer:
		return x.String()
	}
	if n, ok := toInt64(v); ok {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprint(v)
}
