package webhook

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// stringOf turns string bytes into a Go string the way encoding/json does: escapes decoded,
// invalid UTF-8 replaced by U+FFFD.
func stringOf(raw []byte, esc bool) string {
	if esc || !utf8.Valid(raw) {
		return unescapeJSON(raw) // also replaces each invalid byte by U+FFFD
	}
	return string(raw)
}

// unescapeJSON decodes validated string bytes with escapes (surrogate pairs joined, lone
// surrogates and invalid UTF-8 replaced by U+FFFD, as encoding/json does).
func unescapeJSON(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		// Copy the run of bytes that stay as they are: ASCII other than '\\', and valid UTF-8.
		start := i
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
