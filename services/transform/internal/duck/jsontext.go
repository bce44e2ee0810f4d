package duck

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSON writes one Avro value of type t as JSON text, reading it from
// r. Records are objects in field order, maps objects, arrays arrays, a
// union is the value of its branch (no type wrapper), enums and uuids
// strings, bytes and fixed base64 strings, decimals exact numbers, dates,
// times and timestamps ISO 8601 strings (timestamps in UTC), NaN and
// infinities the strings "NaN", "Infinity" and "-Infinity".
func appendJSON(dst []byte, r *reader, t *atype, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, errDepth
	}
	switch t.kind {
	case kNull:
		return append(dst, "null"...), nil
	case kBoolean:
		b, err := r.bool()
		return strconv.AppendBool(dst, b), err
	case kInt, kLong:
		n, err := r.long()
		if err != nil {
			return dst, err
		}
		if t.kind == kInt && (n < math.MinInt32 || n > math.MaxInt32) {
			return dst, errRange
		}
		return appendJSONLong(dst, t.logical, n), nil
	case kFloat:
		f, err := r.float32()
		return appendJSONFloat(dst, float64(f), 32), err
	case kDouble:
		f, err := r.float64()
		return appendJSONFloat(dst, f, 64), err
	case kString:
		a, b, err := r.span()
		if err != nil {
			return dst, err
		}
		return appendJSONString(dst, r.b[a:b]), nil
	case kEnum:
		i, err := r.long()
		if err != nil {
			return dst, err
		}
		if i < 0 || i >= int64(len(t.symbols)) {
			return dst, errSymbol
		}
		return appendJSONString(dst, []byte(t.symbols[i])), nil
	case kBytes, kFixed:
		return appendJSONBytes(dst, r, t)
	case kRecord:
		dst = append(dst, '{')
		for i, f := range t.fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, []byte(f.name))
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSON(dst, r, f.typ, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case kUnion:
		b, err := r.branch(t)
		if err != nil {
			return dst, err
		}
		return appendJSON(dst, r, b, depth+1)
	case kArray, kMap:
		open, shut := byte('['), byte(']')
		if t.kind == kMap {
			open, shut = '{', '}'
		}
		dst = append(dst, open)
		first := true
		err := blocks(r, t, func() error {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if t.kind == kMap {
				a, b, err := r.span()
				if err != nil {
					return err
				}
				dst = appendJSONString(dst, r.b[a:b])
				dst = append(dst, ':')
			}
			var err error
			dst, err = appendJSON(dst, r, t.items, depth+1)
			return err
		})
		return append(dst, shut), err
	}
	return dst, errRange
}

func appendJSONLong(dst []byte, l logical, n int64) []byte {
	var ts time.Time
	switch l {
	case lDate:
		return appendQuoted(dst, time.Unix(n*86400, 0).UTC().AppendFormat(nil, time.DateOnly))
	case lTimeMillis:
		return appendQuoted(dst, time.UnixMilli(n).UTC().AppendFormat(nil, "15:04:05.000"))
	case lTimeMicros:
		return appendQuoted(dst, time.UnixMicro(n).UTC().AppendFormat(nil, "15:04:05.000000"))
	case lTSMillis, lLocalMillis:
		ts = time.UnixMilli(n).UTC()
	case lTSMicros, lLocalMicros:
		ts = time.UnixMicro(n).UTC()
	case lTSNanos, lLocalNanos:
		ts = time.Unix(0, n).UTC()
	default:
		return strconv.AppendInt(dst, n, 10)
	}
	layout := "2006-01-02T15:04:05.999999999Z07:00"
	if l >= lLocalMillis {
		layout = "2006-01-02T15:04:05.999999999"
	}
	return appendQuoted(dst, ts.AppendFormat(nil, layout))
}

func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

func appendJSONBytes(dst []byte, r *reader, t *atype) ([]byte, error) {
	if t.logical == lDecimal {
		b, err := decimalBytes(r, t)
		if err != nil {
			return dst, err
		}
		return appendDecimal(dst, twosComplement(b), t.scale), nil
	}
	var b []byte
	var err error
	if t.kind == kFixed {
		b, err = r.fixed(t.size)
	} else {
		var i, j int
		i, j, err = r.span()
		b = r.b[i:j]
	}
	if err != nil {
		return dst, err
	}
	if t.logical == lUUID {
		return appendQuoted(dst, []byte(uuidText(b))), nil
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
