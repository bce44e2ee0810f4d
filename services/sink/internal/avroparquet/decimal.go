package avroparquet

import (
	"math"
	"math/big"

	"github.com/parquet-go/parquet-go"
)

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// decimal converts a decimal value (*big.Rat, as goavro decodes it).
func (n *node) decimal(v any) (parquet.Value, error) {
	var r *big.Rat
	switch x := v.(type) {
	case *big.Rat:
		r = x
	case big.Rat:
		r = &x
	case string:
		var ok bool
		if r, ok = new(big.Rat).SetString(x); !ok {
			return parquet.Value{}, n.fail("%q is not a decimal", x)
		}
	default:
		return parquet.Value{}, n.fail("want *big.Rat, got %T", v)
	}
	if r == nil {
		return parquet.Value{}, n.fail("nil *big.Rat")
	}
	if n.leaf != leafDecimalString {
		if u, ok, err := n.unscaled64(r); err != nil {
			return parquet.Value{}, err
		} else if ok {
			switch n.leaf {
			case leafDecimal32:
				return parquet.Int32Value(int32(u)), nil //nolint:gosec // G115: |u| < 10^9 (precision ≤ 9)
			case leafDecimal64:
				return parquet.Int64Value(u), nil
			default:
				b := make([]byte, n.size)
				for i := n.size - 1; i >= 0; i-- {
					b[i] = byte(u) //nolint:gosec // G115: byte-wise two's complement, truncation intended
					u >>= 8        // arithmetic shift: sign-extends negative values
				}
				return parquet.FixedLenByteArrayValue(b), nil
			}
		}
	}
	// General path: big integers.
	u := new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n.scale)), nil))
	var rem big.Int
	u.QuoRem(u, r.Denom(), &rem)
	if rem.Sign() != 0 {
		return parquet.Value{}, n.fail("%s has more than %d decimal places", r.FloatString(n.scale+3), n.scale)
	}
	if u.CmpAbs(n.limit) >= 0 {
		return parquet.Value{}, n.fail("%s does not fit decimal(%d,%d)", r.FloatString(n.scale), n.precision, n.scale)
	}
	switch n.leaf {
	case leafDecimalString:
		s := r.FloatString(n.scale)
		return stringValue(s), nil
	case leafDecimalFixed:
		b := make([]byte, n.size)
		if u.Sign() >= 0 {
			u.FillBytes(b)
		} else {
			// two's complement: 2^(8*size) + u
			t := new(big.Int).Lsh(big.NewInt(1), uint(8*n.size))
			t.Add(t, u)
			t.FillBytes(b)
		}
		return parquet.FixedLenByteArrayValue(b), nil
	}
	// leafDecimal32/64 only land here when unscaled64 could not decide, and
	// then the value is out of range (checked above) or fits int64.
	if !u.IsInt64() {
		return parquet.Value{}, n.fail("%s does not fit decimal(%d,%d)", r.FloatString(n.scale), n.precision, n.scale)
	}
	if n.leaf == leafDecimal32 {
		return parquet.Int32Value(int32(u.Int64())), nil //nolint:gosec // G115: |u| < 10^9 (precision ≤ 9)
	}
	return parquet.Int64Value(u.Int64()), nil
}

// unscaled64 computes r·10^scale in int64 without allocating. ok is false when
// the computation does not fit int64 arithmetic (the caller goes the big.Int way).
func (n *node) unscaled64(r *big.Rat) (u int64, ok bool, err error) {
	if n.scale >= len(pow10) {
		return 0, false, nil
	}
	num := r.Num()
	if !num.IsInt64() {
		return 0, false, nil
	}
	x := num.Int64()
	if x == math.MinInt64 {
		return 0, false, nil
	}
	mul := pow10[n.scale]
	if !r.IsInt() {
		den := r.Denom()
		if !den.IsInt64() {
			return 0, false, nil
		}
		d := den.Int64()
		if mul%d != 0 {
			return 0, false, n.fail("%s has more than %d decimal places", r.FloatString(n.scale+3), n.scale)
		}
		mul /= d
	}
	ax := x
	if ax < 0 {
		ax = -ax
	}
	if ax > math.MaxInt64/mul {
		return 0, false, nil
	}
	u = x * mul
	au := ax * mul
	if n.precision < len(pow10) && au >= pow10[n.precision] {
		return 0, false, n.fail("%s does not fit decimal(%d,%d)", r.FloatString(n.scale), n.precision, n.scale)
	}
	return u, true, nil
}
