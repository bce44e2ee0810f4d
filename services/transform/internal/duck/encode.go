package duck

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
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
	u := uint64(v<<1) ^ uint64(v>>63)
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

// appendDecimal writes v as the two's complement bytes of its unscaled
// value at the field's scale.
func (f *ofield) appendDecimal(dst []byte, v any) ([]byte, error) {
	var unscaled *big.Int
	scale := 0
	switch d := v.(type) {
	case duckdb.Decimal:
		if d.Value == nil {
			return dst, fmt.Errorf("decimal without a value")
		}
		unscaled, scale = d.Value, int(d.Scale)
	case *big.Int:
		unscaled = d
	case uint64:
		unscaled = new(big.Int).SetUint64(d)
	default:
		n, ok := toInt64(v)
		if !ok {
			return dst, fmt.Errorf("%T is not a decimal", v)
		}
		if f.scale == 0 {
			return f.appendInt64Decimal(dst, n)
		}
		unscaled = big.NewInt(n)
	}
	if scale != f.scale {
		var err error
		if unscaled, err = rescale(unscaled, scale, f.scale); err != nil {
			return dst, err
		}
	}
	if unscaled.IsInt64() {
		return f.appendInt64Decimal(dst, unscaled.Int64())
	}
	if unscaled.CmpAbs(pow10(f.precision)) >= 0 {
		return dst, fmt.Errorf("%s has more than %d digits", unscaled, f.precision)
	}
	return appendBigDecimal(dst, unscaled), nil
}

// appendInt64Decimal writes an unscaled value that fits an int64.
func (f *ofield) appendInt64Decimal(dst []byte, n int64) ([]byte, error) {
	if f.precision < 19 {
		lim := int64(1)
		for range f.precision {
			lim *= 10
		}
		if n >= lim || n <= -lim {
			return dst, fmt.Errorf("%d has more than %d digits", n, f.precision)
		}
	}
	return appendSmallDecimal(dst, n), nil
}

// rescale moves an unscaled value from scale from to scale to, exactly.
func rescale(u *big.Int, from, to int) (*big.Int, error) {
	if to > from {
		return new(big.Int).Mul(u, pow10(to-from)), nil
	}
	q, r := new(big.Int).QuoRem(u, pow10(from-to), new(big.Int))
	if r.Sign() != 0 {
		return nil, fmt.Errorf("decimal %s at scale %d loses digits at scale %d", u, from, to)
	}
	return q, nil
}

// appendSmallDecimal writes n in the fewest two's complement bytes.
func appendSmallDecimal(dst []byte, n int64) []byte {
	size := 1
	for size < 8 {
		lim := int64(1) << (uint(size)*8 - 1)
		if n >= -lim && n < lim {
			break
		}
		size++
	}
	dst = appendLong(dst, int64(size))
	for i := size - 1; i >= 0; i-- {
		dst = append(dst, byte(n>>(uint(i)*8)))
	}
	return dst
}

// appendBigDecimal writes u in two's complement bytes.
func appendBigDecimal(dst []byte, u *big.Int) []byte {
	size := u.BitLen()/8 + 1
	x := u
	if u.Sign() < 0 {
		x = new(big.Int).Add(u, new(big.Int).Lsh(big.NewInt(1), uint(size)*8))
	}
	b := x.FillBytes(make([]byte, size))
	dst = appendLong(dst, int64(size))
	return append(dst, b...)
}
