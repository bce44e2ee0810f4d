package pgtypes

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// formatDecimal prints unscaled × 10^-scale as numeric_out does.
func formatDecimal(unscaled *big.Int, scale int32) string {
	digits := new(big.Int).Abs(unscaled).String()
	for len(digits) <= int(scale) {
		digits = "0" + digits
	}
	s := digits
	if scale > 0 {
		s = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	}
	if unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}

func FuzzNumeric(f *testing.F) {
	for _, s := range []string{"0", "-0.00", "1.5", "12345678901234567890.123456789", "NaN", "-Infinity", "1e5", "+.5", "9999999999999999999.9", "00012.3400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fixed, ferr := decimalDecoder(40, 10)([]byte(s))
		v, err := decodeVariableNumeric([]byte(s))
		if err != nil {
			if ferr == nil {
				t.Fatalf("%q: decimal decoded, variable failed: %v", s, err)
			}
			return
		}
		m := v.(map[string]any)
		r, err := VariableScaleToRat(m)
		if err != nil {
			t.Fatal(err)
		}
		if ferr == nil && fixed.(*big.Rat).Cmp(r) != 0 {
			t.Fatalf("%q: decimal %v, variable %v", s, fixed, r)
		}
		// Printing the value and reading it again gives the same unscaled value and scale.
		unscaled := fromTwosComplement(m["value"].([]byte))
		text := formatDecimal(unscaled, m["scale"].(int32))
		again, err := decodeVariableNumeric([]byte(text))
		if err != nil || !equalValue(v, again) {
			t.Fatalf("%q printed as %q read back as %v, %v", s, text, again, err)
		}
	})
}

func FuzzNumericRoundTrip(f *testing.F) {
	f.Add(int64(0), uint8(0), uint8(0))
	f.Add(int64(-123456789), uint8(4), uint8(3))
	f.Add(int64(1<<62), uint8(30), uint8(2))
	f.Fuzz(func(t *testing.T, n int64, scale, mul uint8) {
		u := big.NewInt(n)
		u.Mul(u, new(big.Int).Exp(big.NewInt(1_000_000_007), big.NewInt(int64(mul%8)), nil))
		sc := int32(scale % 60)
		text := formatDecimal(u, sc)
		v, err := decodeVariableNumeric([]byte(text))
		if err != nil || !equalValue(VariableScale(u, sc), v) {
			t.Fatalf("%q: %v, %v", text, v, err)
		}
		want := new(big.Rat).SetFrac(u, pow10(sc))
		d, err := decimalDecoder(int32(len(text)), sc)([]byte(text))
		if err != nil || d.(*big.Rat).Cmp(want) != 0 {
			t.Fatalf("%q: decimal %v, %v; want %v", text, d, err, want)
		}
	})
}

// quoteArray prints elements (nil = NULL) as array_out would, quoting every element.
func quoteArray(elems []any, delim byte) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(delim)
		}
		if e == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		for _, c := range []byte(e.(string)) {
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func FuzzArray(f *testing.F) {
	for _, s := range []string{`{}`, `{a,"b c",NULL,"NULL","x\"y","\\"}`, `[0:1]={1,2}`, `{{1},{2}}`, `{ a , b }`, `{a\,b}`, `{"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseArray([]byte(s), ',', decodeString)
		if err != nil {
			return
		}
		text := quoteArray(got, ',')
		again, err := parseArray([]byte(text), ',', decodeString)
		if err != nil || !equalValue(got, again) {
			t.Fatalf("%q → %s printed %q → %s, %v", s, show(got), text, show(again), err)
		}
		// Integer elements never panic either.
		_, _ = parseArray([]byte(s), ',', decodeInt64)
	})
}

func FuzzArrayRoundTrip(f *testing.F) {
	f.Add("a\x00b c\x00\x00NULL\x00\\\"", uint16(0b100), false)
	f.Add("", uint16(0), true)
	f.Fuzz(func(t *testing.T, joined string, nulls uint16, semicolon bool) {
		var elems []any
		if joined != "" {
			for i, e := range strings.Split(joined, "\x00") {
				if i < 16 && nulls&(1<<i) != 0 {
					elems = append(elems, nil)
				} else {
					elems = append(elems, e)
				}
			}
		}
		delim := byte(',')
		if semicolon {
			delim = ';'
		}
		text := quoteArray(elems, delim)
		got, err := parseArray([]byte(text), delim, decodeString)
		if elems == nil {
			elems = []any{}
		}
		if err != nil || !equalValue(elems, got) {
			t.Fatalf("%q: %s, %v; want %s", text, show(got), err, show(elems))
		}
	})
}

// byteaEscape prints b in bytea_output = escape form.
func byteaEscape(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			s.WriteString(`\\`)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&s, `\%03o`, c)
		default:
			s.WriteByte(c)
		}
	}
	return s.String()
}

func FuzzBytea(f *testing.F) {
	f.Add([]byte{})
	f.Add(allBytes())
	f.Add([]byte(`\x41\\`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeBytea([]byte(`\x` + hex.EncodeToString(data)))
		if err != nil || !bytes.Equal(got.([]byte), data) {
			t.Fatalf("hex %x: %x, %v", data, got, err)
		}
		got, err = decodeBytea([]byte(byteaEscape(data)))
		if err != nil || !bytes.Equal(got.([]byte), data) {
			t.Fatalf("escape %q: %x, %v", byteaEscape(data), got, err)
		}
		_, _ = decodeBytea(data) // arbitrary text: no panic
	})
}

// formatTimestamp prints t as PostgreSQL does with DateStyle ISO, in a zone offset east
// of UTC by off seconds (tz false: no offset printed).
func formatTimestamp(t time.Time, off int, tz bool) string {
	l := t.Add(time.Duration(off) * time.Second)
	y, bc := l.Year(), false
	if y <= 0 {
		y, bc = 1-y, true
	}
	s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second())
	if us := l.Nanosecond() / 1000; us != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", us), "0")
	}
	if tz {
		sign := "+"
		if off < 0 {
			sign, off = "-", -off
		}
		s += fmt.Sprintf("%s%02d", sign, off/3600)
		if off%3600 != 0 {
			s += fmt.Sprintf(":%02d", off/60%60)
			if off%60 != 0 {
				s += fmt.Sprintf(":%02d", off%60)
			}
		}
	}
	if bc {
		s += " BC"
	}
	return s
}

func FuzzTimestamp(f *testing.F) {
	f.Add(int64(0), int32(0))
	f.Add(int64(-62167219200_000000), int32(-11188))   // 0000-01-01 (1 BC)
	f.Add(int64(1704164645_123456), int32(19800))      // 2024, +05:30
	f.Add(int64(-210866803200_000000), int32(57599))   // 4713 BC
	f.Add(int64(9223371331200_000000), int32(-3*3600)) // near the end of int64 microseconds
	f.Fuzz(func(t *testing.T, us int64, off int32) {
		off %= 16 * 3600
		// Keep within PostgreSQL's range (4713 BC) and int64 microseconds (year 294246).
		const lo, hi = -210866803200_000000, 9223371331200_000000
		if us < lo {
			us = -(us % lo)
		}
		if us > hi {
			us %= hi
		}
		want := time.UnixMicro(us).UTC()
		for _, tz := range []bool{false, true} {
			o := 0
			if tz {
				o = int(off)
			}
			text := formatTimestamp(want, o, tz)
			got, err := parseTimestamp([]byte(text), tz)
			if err != nil || !equalValue(want, got) {
				t.Fatalf("%q (tz %v): %s, %v; want %s", text, tz, show(got), err, show(want))
			}
		}
		day := time.Date(want.Year(), want.Month(), want.Day(), 0, 0, 0, 0, time.UTC)
		text := strings.Replace(formatTimestamp(day, 0, false), " 00:00:00", "", 1)
		got, err := decodeDate([]byte(text))
		if err != nil || !equalValue(day, got) {
			t.Fatalf("date %q: %s, %v; want %s", text, show(got), err, show(day))
		}
		tod := time.Duration(((us%86_400_000_000)+86_400_000_000)%86_400_000_000) * time.Microsecond
		text = formatTimestamp(time.Unix(0, 0).UTC().Add(tod), 0, false)[len("1970-01-01 "):]
		if got, err := decodeTime([]byte(text)); err != nil || got != tod {
			t.Fatalf("time %q: %v, %v; want %v", text, got, err, tod)
		}
	})
}

func FuzzDateTimeText(f *testing.F) {
	for _, s := range []string{"2024-01-02 03:04:05.123456+02", "0044-03-15 BC", "24:00:00", "infinity", "5874897-12-31", "2024-01-02 03:04:05-03:06:28 BC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fn := range []func([]byte) (any, error){decodeDate, decodeTimestamp, decodeTimestamptz, decodeTime} {
			v, err := fn([]byte(s))
			if err == nil && v == nil {
				t.Fatalf("%q: nil value without error", s)
			}
			if tm, ok := v.(time.Time); ok && tm.Location() != time.UTC {
				t.Fatalf("%q: %v not UTC", s, tm)
			}
		}
	})
}
