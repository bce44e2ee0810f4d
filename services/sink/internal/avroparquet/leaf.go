package avroparquet

import (
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/parquet-go/parquet-go"
)

// value converts a leaf value.
func (n *node) value(v any) (parquet.Value, error) {
	switch n.leaf {
	case leafString:
		switch x := v.(type) {
		case string:
			return stringValue(x), nil
		case []byte:
			return parquet.ByteArrayValue(x), nil
		}
	case leafInt64:
		if x, ok := v.(int64); ok {
			return parquet.Int64Value(x), nil
		}
		if x, ok := asInt64(v); ok {
			return parquet.Int64Value(x), nil
		}
		if _, ok := v.(uint64); ok {
			return parquet.Value{}, n.fail("%v does not fit a long", v)
		}
	case leafInt32:
		if x, ok := v.(int32); ok {
			return parquet.Int32Value(x), nil
		}
		if x, ok := asInt64(v); ok {
			if x < math.MinInt32 || x > math.MaxInt32 {
				return parquet.Value{}, n.fail("%d does not fit an int", x)
			}
			return parquet.Int32Value(int32(x)), nil
		}
		if _, ok := v.(uint64); ok {
			return parquet.Value{}, n.fail("%v does not fit an int", v)
		}
	case leafBool:
		if x, ok := v.(bool); ok {
			return parquet.BooleanValue(x), nil
		}
	case leafDouble:
		switch x := v.(type) {
		case float64:
			return parquet.DoubleValue(x), nil
		case float32:
			return parquet.DoubleValue(float64(x)), nil
		}
	case leafFloat:
		switch x := v.(type) {
		case float32:
			return parquet.FloatValue(x), nil
		case float64:
			return parquet.FloatValue(float32(x)), nil
		}
	case leafBytes:
		switch x := v.(type) {
		case []byte:
			return parquet.ByteArrayValue(x), nil
		case string:
			return stringValue(x), nil
		}
	case leafEnum:
		if x, ok := v.(string); ok {
			if _, ok := n.symbols[x]; !ok {
				return parquet.Value{}, n.fail("%q is not a symbol of the enum", x)
			}
			return stringValue(x), nil
		}
	case leafFixed:
		switch x := v.(type) {
		case []byte:
			if len(x) != n.size {
				return parquet.Value{}, n.fail("fixed(%d) got %d bytes", n.size, len(x))
			}
			return parquet.FixedLenByteArrayValue(x), nil
		case string:
			if len(x) != n.size {
				return parquet.Value{}, n.fail("fixed(%d) got %d bytes", n.size, len(x))
			}
			return parquet.FixedLenByteArrayValue(stringBytes(x)), nil
		}
	case leafUUIDFixed:
		switch x := v.(type) {
		case []byte:
			if len(x) != 16 {
				return parquet.Value{}, n.fail("uuid got %d bytes, want 16", len(x))
			}
			return parquet.FixedLenByteArrayValue(x), nil
		case [16]byte:
			return parquet.FixedLenByteArrayValue(x[:]), nil
		case string:
			b, err := parseUUID(x)
			if err != nil {
				return parquet.Value{}, n.fail("%v", err)
			}
			return parquet.FixedLenByteArrayValue(b), nil
		}
	case leafDecimal32, leafDecimal64, leafDecimalFixed, leafDecimalString:
		return n.decimal(v)
	case leafDate:
		switch x := v.(type) {
		case time.Time:
			days := floorDiv(wallSeconds(x), 86400)
			if days < math.MinInt32 || days > math.MaxInt32 {
				return parquet.Value{}, n.fail("date %v out of range", x)
			}
			return parquet.Int32Value(int32(days)), nil
		case int32:
			return parquet.Int32Value(x), nil
		}
	case leafTimeMillis, leafTimeMicros:
		var us int64
		switch x := v.(type) {
		case time.Duration:
			us = x.Microseconds()
			if n.leaf == leafTimeMillis {
				us = x.Milliseconds() * 1000
			}
		case int32:
			if n.leaf != leafTimeMillis {
				return parquet.Value{}, n.fail("want time.Duration or int64 microseconds, got int32")
			}
			us = int64(x) * 1000
		case int64:
			if n.leaf != leafTimeMicros {
				return parquet.Value{}, n.fail("want time.Duration or int32 milliseconds, got int64")
			}
			us = x
		default:
			return parquet.Value{}, n.fail("want time.Duration, got %T", v)
		}
		if us < 0 || us >= 86400e6 {
			return parquet.Value{}, n.fail("time of day %dµs is outside [0, 24h)", us)
		}
		return parquet.Int64Value(us), nil
	case leafTimestampMicros:
		switch x := v.(type) {
		case time.Time:
			return parquet.Int64Value(x.UnixMicro()), nil
		case int64:
			return parquet.Int64Value(x), nil
		}
	case leafTimestampMillis:
		switch x := v.(type) {
		case time.Time:
			return parquet.Int64Value(x.UnixMilli() * 1000), nil
		case int64:
			if x > math.MaxInt64/1000 || x < math.MinInt64/1000 {
				return parquet.Value{}, n.fail("timestamp %dms out of range", x)
			}
			return parquet.Int64Value(x * 1000), nil
		}
	case leafLocalTimestampMicros, leafLocalTimestampMillis:
		switch x := v.(type) {
		case int64:
			if n.leaf == leafLocalTimestampMillis {
				if x > math.MaxInt64/1000 || x < math.MinInt64/1000 {
					return parquet.Value{}, n.fail("timestamp %dms out of range", x)
				}
				x *= 1000
			}
			return parquet.Int64Value(x), nil
		case time.Time:
			// the wall clock of x, as a local (zone-less) timestamp
			us := wallSeconds(x)*1e6 + int64(x.Nanosecond()/1000)
			if n.leaf == leafLocalTimestampMillis {
				us = floorDiv(us, 1000) * 1000
			}
			return parquet.Int64Value(us), nil
		}
	}
	return parquet.Value{}, n.fail("want %s, got %T", n.leafWant(), v)
}

func (n *node) leafWant() string {
	switch n.leaf {
	case leafBool:
		return "bool"
	case leafInt32:
		return "int32"
	case leafInt64:
		return "int64"
	case leafFloat:
		return "float32"
	case leafDouble:
		return "float64"
	case leafString, leafEnum:
		return "string"
	case leafBytes, leafFixed, leafUUIDFixed:
		return "[]byte"
	case leafDate, leafTimestampMillis, leafTimestampMicros, leafLocalTimestampMillis, leafLocalTimestampMicros:
		return "time.Time"
	}
	return "a value of the field's type"
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// wallSeconds is the Unix time of t's wall clock read as UTC.
func wallSeconds(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func parseUUID(s string) ([]byte, error) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, fmt.Errorf("%q is not a UUID", s)
	}
	var b [16]byte
	hexs := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(b[:], []byte(hexs)); err != nil {
		return nil, fmt.Errorf("%q is not a UUID", s)
	}
	return b[:], nil
}
