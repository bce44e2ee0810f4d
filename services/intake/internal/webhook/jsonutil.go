package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxUnixSeconds is 9999-12-31T23:59:59Z, the last second Avro timestamps and RFC 3339 agree on.
const maxUnixSeconds = 253402300799

// flexString decodes a JSON string or number into its text (numbers keep their literal digits,
// so large ids do not lose precision); null decodes to "".
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return nil
	case b[0] == '"':
		if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
			*f = flexString(b[1 : len(b)-1]) // valid JSON without escapes: the text is the bytes
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*f = flexString(b)
		return nil
	case string(b) == "null":
		*f = ""
		return nil
	default:
		return fmt.Errorf("want a string or a number, got %.20s", b)
	}
}

// parseUnixSeconds parses whole unix seconds (as WhatsApp's "timestamp" strings). Empty is the
// zero time without error; negative, fractional or out-of-range values are errors.
func parseUnixSeconds(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > maxUnixSeconds {
		return time.Time{}, fmt.Errorf("want unix seconds, got %q", truncate(s, 40))
	}
	return time.Unix(n, 0).UTC(), nil
}

// parseUnixLoose parses unix seconds, or milliseconds when the number is too large to be
// seconds of this era (Meta's entry.time is seconds for pages, milliseconds for Messenger).
func parseUnixLoose(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n >= 100_000_000_000 { // year 5138 in seconds, 1973 in milliseconds
		return time.UnixMilli(n).UTC(), n/1000 <= maxUnixSeconds
	}
	return time.Unix(n, 0).UTC(), true
}

// malformed wraps a decoding problem at where (a path like entry[0].changes[1]) in ErrMalformed,
// naming the JSON syntax error offset or the mistyped field when there is one.
func malformed(where string, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %s: invalid JSON at byte offset %d: %w", ErrMalformed, where, se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(value)"
		}
		return fmt.Errorf("%w: %s: field %s: JSON %s where %s was expected", ErrMalformed, where, field, te.Value, te.Type)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, where, err)
}

// jsonKind names the kind of the JSON value starting at b's first non-space byte.
func jsonKind(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
