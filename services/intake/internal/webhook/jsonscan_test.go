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
