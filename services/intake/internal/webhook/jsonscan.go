package webhook

import (
	"errors"
	"fmt"
)

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 1000

// jsonScanner is a small validating JSON reader for the hot WhatsApp path: one pass over the
// body, object and array callbacks instead of reflection, and original bytes available as
// sub-slices. It accepts exactly what encoding/json accepts (a fuzz test holds it to that).
type jsonScanner struct {
	b     []byte
	i     int
	depth int
}

// jsonSyntaxError is invalid JSON at a byte offset.
type jsonSyntaxError struct {
	off int
	msg string
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte offset %d: %s", e.off, e.msg)
}

// jsonShapeError is valid JSON of the wrong shape at a path.
type jsonShapeError struct {
	path string
	msg  string
}

func (e *jsonShapeError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

// inPath prefixes a shape error's path with elem (a key or "[i]"); other errors pass through.
func inPath(err error, elem string) error {
	var se *jsonShapeError
	if elem != "" && errors.As(err, &se) {
		switch {
		case se.path == "":
			se.path = elem
		case se.path[0] == '[':
			se.path = elem + se.path
		default:
			se.path = elem + "." + se.path
		}
	}
	return err
}

func (s *jsonScanner) syntax(msg string) error {
	return &jsonSyntaxError{off: s.i, msg: msg}
}

// shape reports a value of the wrong kind, after skipping it so scanning can go on.
func (s *jsonScanner) shape(want string) error {
	kind := s.kind()
	if err := s.skipValue(); err != nil {
		return err
	}
	return &jsonShapeError{msg: "want " + want + ", got " + kind}
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// kind names the next value's kind.
func (s *jsonScanner) kind() string {
	switch c := s.peek(); {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return "invalid"
}

// end checks that only spaces follow the top-level value.
func (s *jsonScanner) end() error {
	if s.ws(); s.i != len(s.b) {
		return s.syntax("data after the top-level value")
	}
	return nil
}

// skipValue validates and skips one value.
func (s *jsonScanner) skipValue() error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) error { return s.skipValue() })
	case c == '[':
		return s.array(func(int) error { return s.skipValue() })
	case c == '"':
		_, _, err := s.rawString()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.number()
		return err
	case c == 0:
		return s.syntax("unexpected end of input")
	}
	return s.syntax(fmt.Sprintf("invalid character %q looking for a value", s.b[s.i]))
}

// skipRaw skips one value and returns its bytes.
func (s *jsonScanner) skipRaw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skipValue(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

func (s *jsonScanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.syntax("invalid literal, want " + lit)
	}
	s.i += len(lit)
	return nil
}

// null consumes a null and reports true, or reports false without consuming anything.
func (s *jsonScanner) null() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

// object calls fn for each key (unescaped when needed); fn must consume the key's value.
func (s *jsonScanner) object(fn func(key []byte) error) error {
	if s.peek() != '{' {
		return s.shape("an object")
	}
	if s.depth++; s.depth > maxJSONDepth {
		return s.syntax("nesting too deep")
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.syntax("want a string key")
		}
		raw, esc, err := s.rawString()
		if err != nil {
			return err
		}
		key := raw
		if esc {
			key = []byte(unescapeJSON(raw))
		}
		if s.peek() != ':' {
			return s.syntax("want ':' after an object key")
		}
		s.i++
		if err := fn(key); err != nil {
			return inPath(err, string(key))
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax("want ',' or '}' in an object")
		}
	}
}

// array calls fn for each element index; fn must consume the element.
func (s *jsonScanner) array(fn func(i int) error) error {
	if s.peek() != '[' {
		return s.shape("an array")
	}
	if s.depth++; s.depth > maxJSONDepth {
		return s.syntax("nesting too deep")
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for n := 0; ; n++ {
		if err := fn(n); err != nil {
			return inPath(err, fmt.Sprintf("[%d]", n))
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.syntax("want ',' or ']' in an array")
		}
	}
}

// rawString consumes a string and returns its bytes between the quotes and whether it has escapes.
func (s *jsonScanner) rawString() (raw []byte, esc bool, err error) {
	start := s.i + 1
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], esc, nil
		case c == '\\':
			esc = true
			i++
			if i >= len(s.b) {
				break
			}
			switch s.b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s.b) || !isHex4(s.b[i+1:i+5]) {
					s.i = i
					return nil, false, s.syntax("invalid \\u escape")
				}
				i += 4
			default:
				s.i = i
				return nil, false, s.syntax("invalid escape in string")
			}
		case c < 0x20:
			s.i = i
			return nil, false, s.syntax("control character in string")
		}
	}
	s.i = len(s.b)
	return nil, false, s.syntax("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// number consumes a number (JSON grammar) and returns its literal.
func (s *jsonScanner) number() ([]byte, error) {
	start, i := s.i, s.i
	b := s.b
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		s.i = i
		return nil, s.syntax("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			s.i = i
			return nil, s.syntax("invalid number fraction")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			s.i = i
			return nil, s.syntax("invalid number exponent")
		}
	}
	s.i = i
	return b[start:i], nil
}

// str decodes a string (null is ""); another kind is a shape error.
func (s *jsonScanner) str(dst *string) error {
	switch s.peek() {
	case '"':
		raw, esc, err := s.rawString()
		if err != nil {
			return err
		}
		*dst = stringOf(raw, esc)
		return nil
	case 'n':
		return s.literal("null")
	}
	return s.shape("a string")
}

// scalar decodes a string, or a number as its literal text (null is ""); ids and unix times
// arrive either way.
func (s *jsonScanner) scalar(dst *string) error {
	if c := s.peek(); c == '-' || (c >= '0' && c <= '9') {
		n, err := s.number()
		*dst = string(n)
		return err
	}
	if s.peek() != '"' && s.peek() != 'n' {
		return s.shape("a string or a number")
	}
	return s.str(dst)
}

// boolean decodes true or false; null leaves dst nil.
func (s *jsonScanner) boolean(dst **bool) error {
	switch s.peek() {
	case 't', 'f':
		v := s.b[s.i] == 't'
		lit := "false"
		if v {
			lit = "true"
		}
		*dst = &v
		return s.literal(lit)
	case 'n':
		return s.literal("null")
	}
	return s.shape("a boolean")
}
