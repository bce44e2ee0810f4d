package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJSONScannerValidity(t *testing.T) {
	tests := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `true`, `false`, `null`, ` {"a" : [1, {"b":null}] } `,
		`"\u00e9\ud83d\udc4d\/\n"`, `"\ud800"`, "\"\xff\"",
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `tru`, `nul`,
		`"\x"`, `"\u12"`, "\"a\nb\"", `{} {}`, `[1 2]`, `"unterminated`, `{"a":1 "b":2}`,
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			s := jsonScanner{b: []byte(in)}
			err := s.skipValue()
			if err == nil {
				err = s.end()
			}
			if (err == nil) != json.Valid([]byte(in)) {
				t.Fatalf("scanner valid=%v (%v), encoding/json valid=%v", err == nil, err, json.Valid([]byte(in)))
			}
		})
	}
}

func TestJSONScannerShapeErrorsCarryPaths(t *testing.T) {
	s := jsonScanner{b: []byte(`{"a":[{"b":1},{"b":{}}]}`)}
	var got string
	err := s.object(func(key []byte) error {
		return s.array(func(int) error {
			return s.object(func(key []byte) error { return s.str(&got) })
		})
	})
	var se *jsonShapeError
	if !errors.As(err, &se) || se.Error() != "a[0].b: want a string, got number" {
		t.Fatalf("error %v", err)
	}
}

// FuzzJSONScanner holds the hand-written scanner to encoding/json: the same inputs are valid,
// and strings decode to the same text.
func FuzzJSONScanner(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c\u00e9"}]}`, `"\ud83d\udc4d"`, `"\ud83d x"`, "\"\xc3\x28\"", `-0.0e-0`, `[[[]]]`} {
		f.Add([]byte(s))
	}
	for _, s := range seeds(f, "whatsapp") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := jsonScanner{b: b}
		err := s.skipValue()
		if err == nil {
			err = s.end()
		}
		if err != nil && strings.Contains(err.Error(), "nesting too deep") {
			return // encoding/json allows 10000 levels, the scanner 1000
		}
		if valid := json.Valid(b); (err == nil) != valid {
			t.Fatalf("scanner valid=%v (%v), encoding/json valid=%v", err == nil, err, valid)
		}
		if err != nil {
			return
		}
		trimmed := bytes.TrimSpace(b)
		if len(trimmed) > 0 && trimmed[0] == '"' {
			var want, got string
			if err := json.Unmarshal(trimmed, &want); err != nil {
				t.Fatal(err)
			}
			s := jsonScanner{b: trimmed}
			if err := s.str(&got); err != nil || got != want {
				t.Fatalf("str = %q, %v; encoding/json %q", got, err, want)
			}
		}
	})
}

// TestJSONScannerStringsAtEveryOffset puts each byte a string scan must look at (quote,
// backslash escapes, control characters, non-ASCII and invalid UTF-8) at every position of
// strings longer than the scanner's eight-byte steps, and holds str to encoding/json, with and
// without the body text to cut strings from.
func TestJSONScannerStringsAtEveryOffset(t *testing.T) {
	specials := []string{`\"`, `\\`, `\/`, `\n`, `\u00e9`, `\ud83d\udc4d`, `\ud800`, "é", "\xff", "\x01", "\x1f", `"`}
	for _, sp := range specials {
		for n := 0; n <= 24; n++ {
			for pos := 0; pos <= n; pos++ {
				body := []byte(`"` + strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos) + `"`)
				var want string
				wantErr := json.Unmarshal(body, &want)
				for _, withText := range []bool{false, true} {
					s := jsonScanner{b: body}
					if withText {
						s.text = string(body)
					}
					var got string
					err := s.str(&got)
					if err == nil {
						err = s.end()
					}
					if (err == nil) != (wantErr == nil) || got != want && err == nil {
						t.Fatalf("str(%q) (text %v) = %q, %v; encoding/json %q, %v", body, withText, got, err, want, wantErr)
					}
				}
			}
		}
	}
}
