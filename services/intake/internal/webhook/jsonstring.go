package webhook

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// unescapeJSON decodes validated string bytes the way encoding/json does: escapes decoded
// (surrogate pairs joined, lone surrogates replaced by U+FFFD) and each invalid UTF-8 byte
// replaced by U+FFFD. ascii says raw is all ASCII, so runs between escapes are copied as they
// are without checking them.
func unescapeJSON(raw []byte, ascii bool) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		// Copy the run of bytes that stay as they are: ASCII other than '\\', and valid UTF-8.
		start := i
		if ascii {
			if j := bytes.IndexByte(raw[i:], '\\'); j >= 0 {
				i += j
			} else {
				i = len(raw)
			}
		}
		for i < len(raw) {
			if c := raw[i]; c < utf8.RuneSelf {
				if c == '\\' {
					break
				}
				i++
				continue
			}
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		b.Write(raw[start:i])
		if i >= len(raw) {
			break
		}
		if raw[i] != '\\' {
			b.WriteRune(utf8.RuneError) // an invalid byte, as encoding/json
			i++
			continue
		}
		if i+1 >= len(raw) {
			break
		}
		switch raw[i+1] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(raw[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(raw[i+2:i+6])); r2 != utf8.RuneError {
						b.WriteRune(r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
			continue
		default: // '"', '\\', '/'
			b.WriteByte(raw[i+1])
		}
		i += 2
	}
	return b.String()
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
