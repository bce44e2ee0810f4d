package pgtypes

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func TestDecodeNumeric(t *testing.T) {
	for _, tc := range []struct {
		text       string
		prec, sc   int32
		want       any // *big.Rat or error
		unscaled   string
		varScale   int32
		varWantErr bool
	}{
		{"0", 5, 2, rat("0"), "0", 0, false},
		{"-0.00", 5, 2, rat("0"), "0", 2, false},
		{"123.45", 5, 2, rat("12345/100"), "12345", 2, false},
		{"123.450", 5, 2, rat("12345/100"), "123450", 3, false}, // trailing zero beyond the scale is harmless
		{"123.456", 5, 2, ErrNotRepresentable, "123456", 3, false},
		{"1234.5", 5, 2, ErrNotRepresentable, "12345", 1, false},
		{"000123.45", 5, 2, rat("12345/100"), "12345", 2, false},
		{"+1", 5, 2, rat("1"), "1", 0, false},
		{"9999999999999999999", 19, 0, rat("9999999999999999999"), "9999999999999999999", 0, false},
		{"-99999999999999999999.5", 21, 1, rat("-199999999999999999999/2"), "-999999999999999999995", 1, false},
		{"0." + strings.Repeat("0", 30) + "1", 31, 31, new(big.Rat).SetFrac(big.NewInt(1), pow10(31)), "1", 31, false},
		{"NaN", 5, 2, ErrNotRepresentable, "", 0, true},
		{"Infinity", 5, 2, ErrNotRepresentable, "", 0, true},
		{"-Infinity", 5, 2, ErrNotRepresentable, "", 0, true},
		{"", 5, 2, ErrMalformed, "", 0, true},
		{"-", 5, 2, ErrMalformed, "", 0, true},
		{".", 5, 2, ErrMalformed, "", 0, true},
		{"1.2.3", 5, 2, ErrMalformed, "", 0, true},
		{"1e5", 5, 2, ErrMalformed, "", 0, true},
		{"12 ", 5, 2, ErrMalformed, "", 0, true},
	} {
		got, err := decimalDecoder(tc.prec, tc.sc)([]byte(tc.text))
		if werr, ok := tc.want.(error); ok {
			if !errors.Is(err, werr) {
				t.Errorf("decimal(%d,%d) %q: got %v, %v; want %v", tc.prec, tc.sc, tc.text, got, err, werr)
			}
		} else if err != nil || !equalValue(tc.want, got) {
			t.Errorf("decimal(%d,%d) %q: got %s, %v; want %s", tc.prec, tc.sc, tc.text, show(got), err, show(tc.want))
		}
		v, err := decodeVariableNumeric([]byte(tc.text))
		if tc.varWantErr {
			if err == nil {
				t.Errorf("numeric %q: want an error, got %v", tc.text, v)
			}
			continue
		}
		want := VariableScale(bigInt(tc.unscaled), tc.varScale)
		if err != nil || !equalValue(want, v) {
			t.Errorf("numeric %q: got %v, %v; want %v", tc.text, v, err, want)
		}
	}
}

func TestNotRepresentableError(t *testing.T) {
	_, err := decodeVariableNumeric([]byte("NaN"))
	nr, ok := errors.AsType[*NotRepresentableError](err)
	if !ok || nr.Type != "numeric" || nr.Text != "NaN" || !errors.Is(err, ErrNotRepresentable) {
		t.Fatalf("got %#v", err)
	}
	long := "{" + strings.Repeat("{1},", 100) + "{1}}"
	_, err = parseArray([]byte(long), ',', decodeInt32)
	if nr, ok := errors.AsType[*NotRepresentableError](err); !ok || nr.Text != long || len(err.Error()) > 200 {
		t.Fatalf("got %v", err)
	}
}

func TestTwosComplement(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want []byte
	}{
		{0, []byte{0}}, {1, []byte{1}}, {127, []byte{0x7f}}, {128, []byte{0, 0x80}}, {255, []byte{0, 0xff}},
		{256, []byte{1, 0}}, {-1, []byte{0xff}}, {-128, []byte{0x80}}, {-129, []byte{0xff, 0x7f}},
		{-256, []byte{0xff, 0x00}}, {-32768, []byte{0x80, 0}}, {-32769, []byte{0xff, 0x7f, 0xff}},
	} {
		got := twosComplement(big.NewInt(tc.n))
		if !equalValue(tc.want, got) {
			t.Errorf("%d: %x, want %x", tc.n, got, tc.want)
		}
		if back := fromTwosComplement(got); back.Int64() != tc.n {
			t.Errorf("%d: back %v", tc.n, back)
		}
	}
	// goavro writes a decimal with the same bytes, and reads ours back as the same number.
	decCodec, err := goavro.NewCodec(`{"type":"bytes","logicalType":"decimal","precision":40,"scale":0}`)
	if err != nil {
		t.Fatal(err)
	}
	bytesCodec, err := goavro.NewCodec(`"bytes"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"-12345678901234567890123", "0", "1", "-1", "-128", "128", "32767", "-32769", "65535"} {
		n := bigInt(s)
		bin, err := decCodec.BinaryFromNative(nil, new(big.Rat).SetInt(n))
		if err != nil {
			t.Fatal(err)
		}
		raw, _, err := bytesCodec.NativeFromBinary(bin)
		if err != nil || !equalValue(twosComplement(n), raw) {
			t.Errorf("%s: goavro wrote %x, we write %x (%v)", s, raw, twosComplement(n), err)
		}
		ours, err := bytesCodec.BinaryFromNative(nil, twosComplement(n))
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := decCodec.NativeFromBinary(ours)
		if err != nil || v.(*big.Rat).Cmp(new(big.Rat).SetInt(n)) != 0 {
			t.Errorf("%s: goavro read %v, %v", s, v, err)
		}
	}
}

func TestVariableScale(t *testing.T) {
	for _, s := range []string{"0", "1.5", "-0.125", "12345678901234567890.123456789", "-1/1024", "7/20"} {
		r := rat(s)
		v, err := VariableScaleFromRat(r)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		back, err := VariableScaleToRat(v)
		if err != nil || back.Cmp(r) != 0 {
			t.Errorf("%s: back %v, %v", s, back, err)
		}
	}
	if v, _ := VariableScaleFromRat(rat("1.50")); v["scale"] != int32(1) {
		t.Errorf("1.50: scale %v, want the smallest (1)", v["scale"])
	}
	if _, err := VariableScaleFromRat(rat("1/3")); err == nil {
		t.Error("1/3 has a variable scale form")
	}
	if r, err := VariableScaleToRat(VariableScale(big.NewInt(-15), -2)); err != nil || r.Cmp(rat("-1500")) != 0 {
		t.Errorf("negative scale: %v, %v", r, err)
	}
	for _, bad := range []any{nil, map[string]any{"scale": 1, "value": []byte{1}}, map[string]any{"scale": int32(1), "value": "x"}} {
		if _, err := VariableScaleToRat(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	// The schema goes through goavro and round-trips the value form.
	codec, err := goavro.NewCodec(`{"type":"record","name":"VariableScaleDecimal","namespace":"riacho.data",` +
		`"fields":[{"name":"scale","type":"int"},{"name":"value","type":"bytes"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if codec.Schema() == "" || VariableScaleDecimalName != "riacho.data.VariableScaleDecimal" {
		t.Fatal("schema name")
	}
	v := VariableScale(bigInt("-98765432109876543210"), 7)
	bin, err := codec.BinaryFromNative(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := codec.NativeFromBinary(bin)
	if err != nil || !equalValue(v, back) {
		t.Fatalf("round trip %v, %v", back, err)
	}
}

func TestDecodeBytea(t *testing.T) {
	for _, tc := range []struct {
		text string
		want any
	}{
		{`\x`, []byte{}},
		{`\x00FFaB`, []byte{0, 0xff, 0xab}},
		{`\x00 ff`, []byte{0, 0xff}},
		{``, []byte{}},
		{`abc`, []byte("abc")},
		{`a\\b\000\377`, []byte{'a', '\\', 'b', 0, 0xff}},
		{`\x0`, ErrMalformed},
		{`\xzz`, ErrMalformed},
		{`\400`, ErrMalformed},
		{`\9`, ErrMalformed},
		{`a\`, ErrMalformed},
		{`\12`, ErrMalformed},
	} {
		got, err := decodeBytea([]byte(tc.text))
		if werr, ok := tc.want.(error); ok {
			if !errors.Is(err, werr) {
				t.Errorf("%q: got %v, %v; want %v", tc.text, got, err, werr)
			}
		} else if err != nil || !equalValue(tc.want, got) {
			t.Errorf("%q: got %v, %v; want %v", tc.text, got, err, tc.want)
		}
	}
}

func TestDecodeDateTime(t *testing.T) {
	type dec func([]byte) (any, error)
	for _, tc := range []struct {
		fn   dec
		text string
		want any
	}{
		{decodeDate, "2024-02-29", utc(2024, 2, 29, 0, 0, 0, 0)},
		{decodeDate, "2023-02-29", ErrMalformed},
		{decodeDate, "0001-01-01 BC", utc(0, 1, 1, 0, 0, 0, 0)},
		{decodeDate, "0005-02-29 BC", utc(-4, 2, 29, 0, 0, 0, 0)},
		{decodeDate, "2000-02-29 BC", ErrMalformed},
		{decodeDate, "0000-01-01", utc(0, 1, 1, 0, 0, 0, 0)},
		{decodeDate, "0000-01-01 BC", ErrMalformed},
		{decodeDate, "2024-13-01", ErrMalformed},
		{decodeDate, "2024-1-01", ErrMalformed},
		{decodeDate, "01/02/2024", ErrMalformed},
		{decodeDate, "2024-01-01 AD", ErrMalformed},
		{decodeDate, "infinity", ErrNotRepresentable},
		{decodeTimestamp, "2024-01-02T03:04:05", utc(2024, 1, 2, 3, 4, 5, 0)},
		{decodeTimestamp, "2024-01-02 03:04:05.5", utc(2024, 1, 2, 3, 4, 5, 500000)},
		{decodeTimestamp, "2024-01-02 03:04:05.1234567", ErrMalformed},
		{decodeTimestamp, "2024-01-02 24:00:00", ErrMalformed},
		{decodeTimestamp, "2024-01-02 03:04:05+00", ErrMalformed},
		{decodeTimestamp, "2024-01-02", ErrMalformed},
		{decodeTimestamp, "294247-01-10 04:00:54.775807", ErrNotRepresentable},
		{decodeTimestamp, "294247-01-10 04:00:53", utc(294247, 1, 10, 4, 0, 53, 0)},
		{decodeTimestamptz, "2024-01-02 03:04:05-03:30", utc(2024, 1, 2, 6, 34, 5, 0)},
		{decodeTimestamptz, "1900-01-01 00:00:00+05:21:10", utc(1899, 12, 31, 18, 38, 50, 0)},
		{decodeTimestamptz, "0044-03-15 10:00:00-03:06:28 BC", utc(-43, 3, 15, 13, 6, 28, 0)},
		{decodeTimestamptz, "2024-01-02 03:04:05", ErrMalformed},
		{decodeTimestamptz, "2024-01-02 03:04:05+16", ErrMalformed},
		{decodeTimestamptz, "2024-01-02 03:04:05 IST", ErrMalformed},
		{decodeTimestamptz, "-infinity", ErrNotRepresentable},
		{decodeTime, "24:00:00", 24 * time.Hour},
		{decodeTime, "24:00:00.000001", ErrMalformed},
		{decodeTime, "12:60:00", ErrMalformed},
		{decodeTime, "12:00:00.000001", 12*time.Hour + time.Microsecond},
		{decodeTime, "12:00", ErrMalformed},
		{decodeTime, "12:00:00+01", ErrMalformed},
	} {
		got, err := tc.fn([]byte(tc.text))
		if werr, ok := tc.want.(error); ok {
			if !errors.Is(err, werr) {
				t.Errorf("%q: got %s, %v; want %v", tc.text, show(got), err, werr)
			}
		} else if err != nil || !equalValue(tc.want, got) {
			t.Errorf("%q: got %s, %v; want %s", tc.text, show(got), err, show(tc.want))
		}
	}
}

func TestParseArray(t *testing.T) {
	for _, tc := range []struct {
		text  string
		delim byte
		want  any
	}{
		{`{}`, ',', []any{}},
		{` { } `, ',', []any{}},
		{`{a,b}`, ',', []any{"a", "b"}},
		{`{NULL,null,"NULL",NuLl}`, ',', []any{nil, nil, "NULL", nil}},
		{`{"",""}`, ',', []any{"", ""}},
		{`{"a\"b","c\\d"}`, ',', []any{`a"b`, `c\d`}},
		{`{ a b , c }`, ',', []any{"a b", "c"}},
		{`{a\ ,\NULL}`, ',', []any{"a ", "NULL"}},
		{`{a;b,c}`, ';', []any{"a", "b,c"}},
		{`[-1:0]={x,y}`, ',', []any{"x", "y"}},
		{`[1:2][1:1]={{x},{y}}`, ',', ErrNotRepresentable},
		{`{{x},{y}}`, ',', ErrNotRepresentable},
		{`{"{x}"}`, ',', []any{"{x}"}},
		{``, ',', ErrMalformed},
		{`{`, ',', ErrMalformed},
		{`{a`, ',', ErrMalformed},
		{`{a,}`, ',', ErrMalformed},
		{`{,a}`, ',', ErrMalformed},
		{`{"a}`, ',', ErrMalformed},
		{`{"a\`, ',', ErrMalformed},
		{`{a\`, ',', ErrMalformed},
		{`{a"b}`, ',', ErrMalformed},
		{`{a}x`, ',', ErrMalformed},
		{`{"a"b}`, ',', ErrMalformed},
		{`[1:2={a}`, ',', ErrMalformed},
		{`[1:2]{a}`, ',', ErrMalformed},
	} {
		got, err := parseArray([]byte(tc.text), tc.delim, decodeString)
		if werr, ok := tc.want.(error); ok {
			if !errors.Is(err, werr) {
				t.Errorf("%q: got %s, %v; want %v", tc.text, show(got), err, werr)
			}
			continue
		}
		if err != nil || !equalValue(tc.want, got) {
			t.Errorf("%q: got %s, %v; want %s", tc.text, show(got), err, show(tc.want))
		}
	}
	// Element errors name the element.
	_, err := parseArray([]byte(`{1,x}`), ',', decodeInt32)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "element 2") {
		t.Errorf("element error: %v", err)
	}
}

func TestDecodeScalars(t *testing.T) {
	for _, tc := range []struct {
		fn   func([]byte) (any, error)
		text string
		want any
	}{
		{decodeBool, "t", true}, {decodeBool, "false", false}, {decodeBool, "yes", ErrMalformed},
		{decodeInt32, "2147483648", ErrMalformed}, {decodeInt32, "-7", int32(-7)},
		{decodeInt64, "9223372036854775808", ErrMalformed}, {decodeInt64, "1_000", ErrMalformed},
		{decodeOID, "4294967296", ErrMalformed}, {decodeOID, "-1", ErrMalformed},
		{decodeFloat32, "x", ErrMalformed}, {decodeFloat64, "-Infinity", math.Inf(-1)},
	} {
		got, err := tc.fn([]byte(tc.text))
		if werr, ok := tc.want.(error); ok {
			if !errors.Is(err, werr) {
				t.Errorf("%q: got %v, %v; want %v", tc.text, got, err, werr)
			}
		} else if err != nil || !equalValue(tc.want, got) {
			t.Errorf("%q: got %v, %v; want %v", tc.text, got, err, tc.want)
		}
	}
}

func TestNumericTypmod(t *testing.T) {
	mod := func(p, s int) int32 { return int32(p<<16|(s&0x7ff)) + 4 }
	for _, tc := range []struct {
		typmod int32
		want   any
	}{
		{-1, VariableScaleDecimalSchema()},
		{mod(10, 2), dec(10, 2)},
		{mod(1000, 0), dec(1000, 0)},
		{mod(3, -1), dec(4, 0)},
		{mod(2, 5), dec(5, 5)},
	} {
		m := numericMapping(tc.typmod, "numeric")
		if !equalValue(tc.want, m.Type) {
			t.Errorf("typmod %d: %#v, want %#v", tc.typmod, m.Type, tc.want)
		}
	}
}
