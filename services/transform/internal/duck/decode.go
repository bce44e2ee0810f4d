package duck

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// maxDepth bounds nesting of records, arrays, maps and unions in a body.
const maxDepth = 128

// maxZeroSizeItems caps the items of one array or map whose items occupy no
// bytes (arrays of null or of empty records), which the length cannot bound.
const maxZeroSizeItems = 1 << 20

var (
	errShort    = errors.New("unexpected end of body")
	errVarint   = errors.New("varint overflows 64 bits")
	errLength   = errors.New("negative or too large length")
	errBranch   = errors.New("union branch out of range")
	errBool     = errors.New("boolean byte is not 0 or 1")
	errUTF8     = errors.New("string is not valid UTF-8")
	errDepth    = errors.New("nesting too deep")
	errCount    = errors.New("block count larger than the body")
	errSymbol   = errors.New("enum index out of range")
	errRange    = errors.New("value out of range")
	errTrailing = errors.New("bytes left after the record")
)

// reader walks one Avro body. s is the body as a string when the schema
// keeps strings: every decoded string is a substring of it, one allocation
// per body instead of one per string.
type reader struct {
	b []byte
	i int
	s string
}

func (r *reader) long() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.i >= len(r.b) {
			return 0, errShort
		}
		c := r.b[r.i]
		r.i++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, errVarint
}

func (r *reader) int() (int32, error) {
	v, err := r.long()
	if err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
		return 0, errRange
	}
	return int32(v), err //nolint:gosec // range checked above
}

// span reads a length-prefixed byte string and returns its bounds.
func (r *reader) span() (int, int, error) {
	n, err := r.long()
	if err != nil {
		return 0, 0, err
	}
	if n < 0 || n > int64(len(r.b)-r.i) {
		return 0, 0, errLength
	}
	start := r.i
	r.i += int(n)
	return start, r.i, nil
}

func (r *reader) fixed(n int) ([]byte, error) {
	if n > len(r.b)-r.i {
		return nil, errShort
	}
	b := r.b[r.i : r.i+n]
	r.i += n
	return b, nil
}

func (r *reader) bool() (bool, error) {
	if r.i >= len(r.b) {
		return false, errShort
	}
	c := r.b[r.i]
	r.i++
	if c > 1 {
		return false, errBool
	}
	return c == 1, nil
}

func (r *reader) float32() (float32, error) {
	b, err := r.fixed(4)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
}

func (r *reader) float64() (float64, error) {
	b, err := r.fixed(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

// branch reads a union index.
func (r *reader) branch(t *atype) (*atype, error) {
	i, err := r.long()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(t.branches)) {
		return nil, errBranch
	}
	return t.branches[i], nil
}

// Decode turns one Avro binary body (without the 5-byte wire header) into a
// row of appender-ready values, one per column.
func (s *InputSchema) Decode(body []byte) ([]any, error) {
	r := reader{b: body}
	if s.needStr {
		r.s = string(body)
	}
	row := make([]any, len(s.Columns))
	var err error
	if s.Envelope {
		err = s.decodeEnvelope(&r, row)
	} else {
		err = s.decodeRow(&r, row)
	}
	if err == nil && r.i != len(body) {
		err = errTrailing
	}
	if err != nil {
		return nil, fmt.Errorf("%w: offset %d: %w", ErrDecode, r.i, err)
	}
	return row, nil
}

func (s *InputSchema) decodeRow(r *reader, row []any) error {
	for i := range s.cols {
		v, err := s.cols[i].decode(r)
		if err != nil {
			return fmt.Errorf("field %s: %w", s.Columns[i].Name, err)
		}
		row[i] = v
	}
	return nil
}

// decode reads one column value.
func (d *colDec) decode(r *reader) (any, error) {
	if d.union {
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i == d.nullIdx {
			return nil, nil
		}
		if i != 1-d.nullIdx {
			return nil, errBranch
		}
	}
	v := d.value
	switch d.conv {
	case cString:
		a, b, err := r.span()
		if err != nil {
			return nil, err
		}
		str := r.s[a:b]
		if !utf8.ValidString(str) {
			return nil, errUTF8
		}
		return str, nil
	case cInt64:
		return r.long()
	case cInt32:
		return r.int()
	case cTSMicros:
		n, err := r.long()
		return time.UnixMicro(n).UTC(), err
	case cTSMillis:
		n, err := r.long()
		return time.UnixMilli(n).UTC(), err
	case cTSNanos:
		n, err := r.long()
		return time.Unix(0, n).UTC(), err
	case cFloat64:
		return r.float64()
	case cFloat32:
		return r.float32()
	case cBool:
		return r.bool()
	case cEnum:
		i, err := r.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(v.symbols)) {
			return nil, errSymbol
		}
		return v.symbols[i], nil
	case cBytes:
		a, b, err := r.span()
		if err != nil {
			return nil, err
		}
		return []byte(r.s[a:b]), nil
	case cFixed:
		b, err := r.fixed(v.size)
		return append([]byte(nil), b...), err
	case cDecimal, cDecimalText:
		return decodeDecimal(r, v, d.conv == cDecimalText)
	case cUUIDFixed:
		b, err := r.fixed(16)
		if err != nil {
			return nil, err
		}
		return uuidText(b), nil
	case cDate:
		n, err := r.int()
		return time.Unix(int64(n)*86400, 0).UTC(), err
	case cTimeMillis:
		n, err := r.int()
		if err == nil && (n < 0 || n >= 86_400_000) {
			return nil, errRange
		}
		return time.UnixMilli(int64(n)).UTC(), err
	case cTimeMicros:
		n, err := r.long()
		if err == nil && (n < 0 || n >= 86_400_000_000) {
			return nil, errRange
		}
		return time.UnixMicro(n).UTC(), err
	case cJSON:
		out, err := appendJSON(nil, r, d.t, 0)
		return json.RawMessage(out), err
	case cNull:
		return nil, nil
	}
	return nil, fmt.Errorf("no decoder for %s", kindName(v.kind))
}
