package pgtypes

import (
	"fmt"
)

// parseArray parses the text of a one-dimensional PostgreSQL array, {a,"b c",NULL,"x\"y"}
// (optionally with bounds, [0:2]={...}), decoding each element with elem. NULL elements are
// nil. A multi-dimensional value is not representable in the column's schema.
func parseArray(text []byte, delim byte, elem func([]byte) (any, error)) ([]any, error) {
	s := text
	i := 0
	if len(s) > 0 && s[0] == '[' {
		dims := 0
		for i < len(s) && s[i] == '[' {
			j := i + 1
			for j < len(s) && s[j] != ']' {
				j++
			}
			if j == len(s) {
				return nil, malformed("array", text, "unterminated dimensions")
			}
			dims++
			i = j + 1
		}
		if i >= len(s) || s[i] != '=' {
			return nil, malformed("array", text, "expected = after dimensions")
		}
		if dims > 1 {
			return nil, notRepresentable("array", text, "multi-dimensional array in a one-dimensional array column")
		}
		i++
	}
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != '{' {
		return nil, malformed("array", text, "expected {")
	}
	i = skipSpace(s, i+1)
	out := []any{}
	if i < len(s) && s[i] == '}' {
		if skipSpace(s, i+1) != len(s) {
			return nil, malformed("array", text, "unexpected text after }")
		}
		return out, nil
	}
	var buf []byte
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return nil, malformed("array", text, "unterminated array")
		}
		var (
			raw  []byte // the element's text
			null bool
		)
		switch s[i] {
		case '{':
			return nil, notRepresentable("array", text, "multi-dimensional array in a one-dimensional array column")
		case '"':
			buf = buf[:0]
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' {
					if i+1 >= len(s) {
						break
					}
					buf = append(buf, s[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				buf = append(buf, c)
				i++
			}
			if !closed {
				return nil, malformed("array", text, "unterminated quoted element")
			}
			raw = buf
		default:
			start := i
			escaped := false
			end := i // end of the element without trailing unescaped space
			for i < len(s) && s[i] != delim && s[i] != '}' {
				c := s[i]
				switch {
				case c == '\\':
					if i+1 >= len(s) {
						return nil, malformed("array", text, "trailing backslash")
					}
					escaped = true
					i += 2
					end = i
				case c == '"' || c == '{':
					return nil, malformed("array", text, fmt.Sprintf("unexpected %q in unquoted element", c))
				case isSpace(c):
					i++
				default:
					i++
					end = i
				}
			}
			if end == start {
				return nil, malformed("array", text, "empty unquoted element")
			}
			raw = s[start:end]
			if escaped {
				buf = buf[:0]
				for k := 0; k < len(raw); k++ {
					if raw[k] == '\\' {
						k++
					}
					buf = append(buf, raw[k])
				}
				raw = buf
			} else if len(raw) == 4 && (raw[0]|0x20) == 'n' && (raw[1]|0x20) == 'u' && (raw[2]|0x20) == 'l' && (raw[3]|0x20) == 'l' {
				null = true
			}
		}
		if null {
			out = append(out, nil)
		} else {
			v, err := elem(raw)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", len(out)+1, err)
			}
			out = append(out, v)
		}
		i = skipSpace(s, i)
		if i >= len(s) {
			return nil, malformed("array", text, "unterminated array")
		}
		switch s[i] {
		case delim:
			i++
		case '}':
			if skipSpace(s, i+1) != len(s) {
				return nil, malformed("array", text, "unexpected text after }")
			}
			return out, nil
		default:
			return nil, malformed("array", text, fmt.Sprintf("unexpected %q after element", s[i]))
		}
	}
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}
