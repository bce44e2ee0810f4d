package webhook

import (
	"math/big"
	"strings"
)

// Limits that keep untrusted numbers cheap to handle.
const (
	maxDecimalDigits   = 100
	maxDecimalExponent = 100
)

// splitPlainDecimal splits a plain decimal literal (optional sign, digits, optional "." and
// fraction, optional e/E exponent as in JSON or Excel raw values) into sign, integer digits and
// fraction digits with the exponent applied.
func splitPlainDecimal(s string) (neg bool, intPart, frac string, ok bool) {
	if s == "" || len(s) > maxDecimalDigits+8 {
		return false, "", "", false
	}
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e := s[i+1:]
		s = s[:i]
		eneg := false
		if e != "" && (e[0] == '-' || e[0] == '+') {
			eneg, e = e[0] == '-', e[1:]
		}
		if e == "" || len(e) > 3 || !allDigits(e) {
			return false, "", "", false
		}
		for _, c := range e {
			exp = exp*10 + int(c-'0')
		}
		if exp > maxDecimalExponent {
			return false, "", "", false
		}
		if eneg {
			exp = -exp
		}
	}
	intPart, frac = s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
	}
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return false, "", "", false
	}
	switch {
	case exp > 0:
		if len(frac) < exp {
			frac += strings.Repeat("0", exp-len(frac))
		}
		intPart, frac = intPart+frac[:exp], frac[exp:]
	case exp < 0:
		n := -exp
		if len(intPart) < n {
			intPart = strings.Repeat("0", n-len(intPart)) + intPart
		}
		intPart, frac = intPart[:len(intPart)-n], intPart[len(intPart)-n:]+frac
	}
	return neg, intPart, frac, true
}

// canonicalDecimal formats digits as "-123.45": no leading zeros, fraction kept as given,
// no sign on zero.
func canonicalDecimal(neg bool, intPart, frac string) string {
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(intPart+frac, "0") != "" {
		out = "-" + out
	}
	return out
}

// decimalRat converts a plain decimal literal into the *big.Rat goavro encodes as an Avro
// decimal with this scale and precision, rounding half away from zero to the scale; ok is false
// for an empty, invalid or out-of-precision value.
func decimalRat(s string, scale, precision int) (*big.Rat, bool) {
	neg, intPart, frac, ok := splitPlainDecimal(s)
	if !ok {
		return nil, false
	}
	roundUp := false
	if len(frac) > scale {
		roundUp = frac[scale] >= '5'
		frac = frac[:scale]
	}
	frac += strings.Repeat("0", scale-len(frac))
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, false
	}
	if roundUp {
		n.Add(n, big.NewInt(1))
	}
	if len(n.String()) > precision {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	return new(big.Rat).SetFrac(n, den), true
}

// allDigits reports whether s has only ASCII digits (true for "").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
