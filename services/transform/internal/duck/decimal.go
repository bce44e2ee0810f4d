package duck

import (
	"fmt"
	"math/big"

	"github.com/duckdb/duckdb-go/v2"
)

// decimalBytes reads the two's complement unscaled value of a decimal.
func decimalBytes(r *reader, t *atype) ([]byte, error) {
	if t.kind == kFixed {
		return r.fixed(t.size)
	}
	a, b, err := r.span()
	if err != nil {
		return nil, err
	}
	return r.b[a:b], nil
}

// decodeDecimal reads a decimal as duckdb.Decimal (or its text for
// precisions above 38), rejecting values with more digits than the precision.
func decodeDecimal(r *reader, t *atype, text bool) (any, error) {
	b, err := decimalBytes(r, t)
	if err != nil {
		return nil, err
	}
	unscaled := twosComplement(b)
	if unscaled.CmpAbs(t.limit) >= 0 {
		return nil, fmt.Errorf("decimal has more than %d digits: %w", t.precision, errRange)
	}
	if text {
		return decimalText(unscaled, t.scale), nil
	}
	return duckdb.Decimal{Width: uint8(t.precision), Scale: uint8(t.scale), Value: unscaled}, nil //nolint:gosec // precision and scale are at most 38 here
}

// twosComplement reads a big-endian two's complement integer.
func twosComplement(b []byte) *big.Int {
	if len(b) <= 8 {
		var v int64
		if len(b) > 0 && b[0]&0x80 != 0 {
			v = -1
		}
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return big.NewInt(v)
	}
	n := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return n
}

// pow10 returns 10^n.
func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// decimalText formats unscaled * 10^-scale exactly.
func decimalText(unscaled *big.Int, scale int) string {
	return string(appendDecimal(nil, unscaled, scale))
}

func appendDecimal(dst []byte, unscaled *big.Int, scale int) []byte {
	digits := unscaled.String()
	if unscaled.Sign() < 0 {
		dst = append(dst, '-')
		digits = digits[1:]
	}
	if scale == 0 {
		return append(dst, digits...)
	}
	for len(digits) <= scale {
		digits = "0" + digits
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
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
		if d == nil {
			return dst, fmt.Errorf("nil *big.Int")
		}
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
	if unscaled.CmpAbs(f.limit) >= 0 {
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
		dst = append(dst, byte(n>>(uint(i)*8))) //nolint:gosec // one byte of the two's complement, truncation intended
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
