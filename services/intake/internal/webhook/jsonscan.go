package webhook

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

// maxJSONDepth bounds nesting so hostile input cannot exhaust the stack.
const maxJSONDepth = 1000

// jsonScanner is a small validating JSON reader for the hot WhatsApp path: one pass over the
// body, object and array callbacks instead of reflection, and original bytes available as
// sub-slices. It accepts exactly what encoding/json accepts (a fuzz test holds it to that).
type jsonScanner struct {
	b []byte
	// text, when set, is b as a string: strings without escapes are then cut from it rather
	// than copied one by one, so a whole body costs one copy.
	text  string
	i     int
	depth int
}

// textAt returns b[start:end] as a string, cut from text when it is set.
func (s *jsonScanner) textAt(start, end int) string {
	if s.text != "" {
		return s.text[start:end]
	}
	return string(s.b[start:end])
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
		_, _, _, err := s.rawString()
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
		raw, esc, ascii, err := s.rawString()
		if err != nil {
			return err
		}
		key := raw
		if esc {
			key = []byte(unescapeJSON(raw, ascii))
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

// rawString consumes a string and returns its bytes between the quotes, whether it has
// escapes, and whether those bytes are all ASCII (then they are valid UTF-8 as they are).
func (s *jsonScanner) rawString() (raw []byte, esc, ascii bool, err error) {
	b := s.b
	start := s.i + 1
	var high uint64 // the bytes seen, or-ed: bit 7 of some byte set means non-ASCII
	for i := start; ; {
		// Skip eight plain bytes at a time, then up to the first byte that needs a look.
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if m := specialBytes(w); m != 0 {
				n := bits.TrailingZeros64(m) >> 3
				high |= w & (1<<(8*n) - 1)
				i += n
				break
			}
			high |= w
			i += 8
		}
		if i >= len(b) {
			s.i = len(b)
			return nil, false, false, s.syntax("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return b[start:i], esc, high&wordHigh == 0, nil
		case c == '\\':
			esc = true
			i++
			if i >= len(b) {
				continue // unterminated
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex4(b[i+1:i+5]) {
					s.i = i
					return nil, false, false, s.syntax("invalid \\u escape")
				}
				i += 4
			default:
				s.i = i
				return nil, false, false, s.syntax("invalid escape in string")
			}
		case c < 0x20:
			s.i = i
			return nil, false, false, s.syntax("control character in string")
		default:
			high |= uint64(c)
		}
		i++
	}
}

// Masks of the low and the high bit of each byte of a 64-bit word.
const (
	wordLow  = 0x0101010101010101
	wordHigh = 0x8080808080808080
)

// specialBytes flags the bytes of w (read little-endian) that a string scan must stop at: a
// quote, a backslash or a control character. Bit 7 of a byte is set in the result when that
// byte, or one above the lowest flagged one, is such a byte: the lowest flag is always exact.
// (x-wordLow)&^x flags the zero bytes of x this way, and (x-wordLow*n)&^x the bytes below n.
func specialBytes(w uint64) uint64 {
	q := w ^ (wordLow * '"')
	bs := w ^ (wordLow * '\\')
	return ((w-wordLow*0x20)&^w | (q-wordLow)&^q | (bs-wordLow)&^bs) & wordHigh
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
		raw, esc, ascii, err := s.rawString()
		if err != nil {
			return err
		}
		switch {
		case esc:
			*dst = unescapeJSON(raw, ascii)
		case !ascii && !utf8.Valid(raw):
			*dst = unescapeJSON(raw, false) // replaces each invalid byte by U+FFFD
		default:
			*dst = s.textAt(s.i-1-len(raw), s.i-1) // between the quotes just consumed
		}
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
		start := s.i
		if _, err := s.number(); err != nil {
			return err
		}
		*dst = s.textAt(start, s.i)
		return nil
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
