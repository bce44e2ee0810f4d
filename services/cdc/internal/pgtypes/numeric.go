package pgtypes

import (
	"errors"
	"fmt"
	"math/big"
)

// VariableScaleDecimalName is the full Avro name of the record that carries numeric values
// without a declared precision and scale. A schema may define a named type once: a second
// column of that type must refer to it by this name instead of repeating the definition.
const VariableScaleDecimalName = "riacho.data.VariableScaleDecimal"

// VariableScaleDecimalSchema returns (a fresh copy of) the Avro schema of unconstrained
// numeric values, as Debezium writes them:
//
//	{"type":"record","name":"VariableScaleDecimal","namespace":"riacho.data",
//	 "fields":[{"name":"scale","type":"int"},{"name":"value","type":"bytes"}]}
//
// The value is the unscaled integer in two's complement, big-endian, and the number is
// value × 10^-scale.
func VariableScaleDecimalSchema() map[string]any {
	return map[string]any{
		"type":      "record",
		"name":      "VariableScaleDecimal",
		"namespace": "riacho.data",
		"fields": []any{
			map[string]any{"name": "scale", "type": "int"},
			map[string]any{"name": "value", "type": "bytes"},
		},
	}
}

// VariableScale returns the goavro form of a VariableScaleDecimal record for
// unscaled × 10^-scale: map{"scale": int32, "value": []byte}.
func VariableScale(unscaled *big.Int, scale int32) map[string]any {
	return map[string]any{"scale": scale, "value": twosComplement(unscaled)}
}

// VariableScaleFromRat returns the VariableScaleDecimal form of r with the smallest scale
// that holds it exactly. It fails when r has no finite decimal expansion (e.g. 1/3).
func VariableScaleFromRat(r *big.Rat) (map[string]any, error) {
	d := new(big.Int).Set(r.Denom())
	var twos, fives int32
	mod := new(big.Int)
	for _, p := range []struct {
		n *int32
		f int64
	}{{&twos, 2}, {&fives, 5}} {
		f := big.NewInt(p.f)
		for {
			q, m := new(big.Int).QuoRem(d, f, mod)
			if m.Sign() != 0 {
				break
			}
			d = q
			*p.n++
		}
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		return nil, fmt.Errorf("variable scale decimal: %s has no finite decimal expansion", r.RatString())
	}
	scale := max(twos, fives)
	u := new(big.Int).Mul(r.Num(), pow10(scale))
	u.Quo(u, r.Denom())
	return VariableScale(u, scale), nil
}

// VariableScaleToRat converts a VariableScaleDecimal record (as VariableScale returns it,
// or as goavro decodes it) back to an exact number.
func VariableScaleToRat(v any) (*big.Rat, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("variable scale decimal: want map[string]any, got %T", v)
	}
	scale, ok := m["scale"].(int32)
	if !ok {
		return nil, fmt.Errorf("variable scale decimal: scale is %T, want int32", m["scale"])
	}
	b, ok := m["value"].([]byte)
	if !ok {
		return nil, fmt.Errorf("variable scale decimal: value is %T, want []byte", m["value"])
	}
	u := fromTwosComplement(b)
	if scale >= 0 {
		return new(big.Rat).SetFrac(u, pow10(scale)), nil
	}
	return new(big.Rat).SetInt(u.Mul(u, pow10(-scale))), nil
}

// twosComplement returns x in minimal big-endian two's complement (zero is one 0 byte).
func twosComplement(x *big.Int) []byte {
	switch x.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := x.Bytes()
		if b[0]&0x80 != 0 {
			return append([]byte{0}, b...)
		}
		return b
	}
	// n bytes hold -2^(8n-1) .. -1; |x|-1 must fit in 8n-1 bits.
	m := new(big.Int).Neg(x)
	m.Sub(m, big.NewInt(1))
	n := m.BitLen()/8 + 1
	y := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	y.Add(y, x)
	out := make([]byte, n)
	y.FillBytes(out)
	return out
}

func fromTwosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}

var pow10s = func() []*big.Int {
	p := make([]*big.Int, 40)
	p[0] = big.NewInt(1)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], big.NewInt(10))
	}
	return p
}()

// pow10 returns 10^n; the small ones are shared and must not be modified.
func pow10(n int32) *big.Int {
	if int(n) < len(pow10s) {
		return pow10s[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// decimalText is a parsed numeric: unscaled × 10^-scale.
type decimalText struct {
	small     int64    // the unscaled value when isSmall
	isSmall   bool     // it fits in int64 (at most 18 digits)
	unscaled  *big.Int // otherwise
	scale     int32
	intDigits int // significant digits before the point
}

var errNoDigits = errors.New("no digits")

// parseNumeric parses numeric_out text: [-]digits[.digits]. NaN and ±Infinity are
// valid PostgreSQL numerics that no Avro decimal can hold.
func parseNumeric(text []byte) (decimalText, error) {
	var d decimalText
	s := text
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	switch string(s) {
	case "NaN", "Infinity":
		return d, notRepresentable("numeric", text, "NaN and infinity have no decimal form")
	}
	var (
		digits, frac int
		dot          = false
		leading      = true
		small        uint64
	)
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if dot {
				frac++
			} else if !leading || c != '0' {
				leading = false
				d.intDigits++
			}
			if digits <= 19 {
				small = small*10 + uint64(c-'0')
			}
		case c == '.' && !dot:
			dot = true
		default:
			return d, malformed("numeric", text, fmt.Sprintf("unexpected %q", c))
		}
	}
	if digits == 0 {
		return d, malformed("numeric", text, errNoDigits.Error())
	}
	if frac > 1<<15 {
		return d, malformed("numeric", text, "scale too large")
	}
	d.scale = int32(frac)
	switch {
	case digits <= 18:
		d.small, d.isSmall = int64(small), true
		if neg {
			d.small = -d.small
		}
		return d, nil
	case digits == 19:
		d.unscaled = new(big.Int).SetUint64(small)
	default:
		buf := make([]byte, 0, digits)
		for _, c := range s {
			if c != '.' {
				buf = append(buf, c)
			}
		}
		d.unscaled, _ = new(big.Int).SetString(string(buf), 10)
	}
	if neg {
		d.unscaled.Neg(d.unscaled)
	}
	return d, nil
}

// big returns the unscaled value as a big.Int.
func (d *decimalText) big() *big.Int {
	if d.isSmall {
		d.unscaled, d.isSmall = big.NewInt(d.small), false
	}
	return d.unscaled
}

func (d decimalText) rat() *big.Rat {
	if d.isSmall && d.scale <= 18 {
		p := int64(1)
		for range d.scale {
			p *= 10
		}
		return new(big.Rat).SetFrac64(d.small, p)
	}
	d.big()
	if d.scale == 0 {
		return new(big.Rat).SetInt(d.unscaled)
	}
	return new(big.Rat).SetFrac(d.unscaled, pow10(d.scale))
}

// decimalDecoder decodes numeric text for an Avro decimal(precision, scale) into an exact
// *big.Rat, refusing values the decimal cannot hold without losing digits.
func decimalDecoder(precision, scale int32) func([]byte) (any, error) {
	return func(text []byte) (any, error) {
		d, err := parseNumeric(text)
		if err != nil {
			return nil, err
		}
		if d.scale > scale {
			// Trailing zeros beyond the scale lose nothing.
			if !trimScale(&d, scale) {
				return nil, notRepresentable("numeric", text, fmt.Sprintf("more than %d fraction digits", scale))
			}
		}
		if d.intDigits > int(precision-scale) {
			return nil, notRepresentable("numeric", text, fmt.Sprintf("more than %d integer digits", precision-scale))
		}
		return d.rat(), nil
	}
}

// trimScale drops trailing zero fraction digits down to scale; false when a non-zero
// digit would be lost.
func trimScale(d *decimalText, scale int32) bool {
	f := pow10(d.scale - scale)
	q, m := new(big.Int).QuoRem(d.big(), f, new(big.Int))
	if m.Sign() != 0 {
		return false
	}
	d.unscaled, d.scale = q, scale
	return true
}

// decodeVariableNumeric decodes unconstrained numeric text into the VariableScaleDecimal
// form, keeping the scale the text shows (1.50 → scale 2, unscaled 150).
func decodeVariableNumeric(text []byte) (any, error) {
	d, err := parseNumeric(text)
	if err != nil {
		return nil, err
	}
	return VariableScale(d.big(), d.scale), nil
}
