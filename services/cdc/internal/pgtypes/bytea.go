package pgtypes

// decodeBytea decodes bytea text in the hex format (\x0a1b..., the default bytea_output)
// or the legacy escape format (printable bytes as is, \\ and \ooo octal escapes).
func decodeBytea(text []byte) (any, error) {
	if len(text) >= 2 && text[0] == '\\' && text[1] == 'x' {
		return decodeByteaHex(text)
	}
	return decodeByteaEscape(text)
}

func decodeByteaHex(text []byte) ([]byte, error) {
	s := text[2:]
	out := make([]byte, 0, len(s)/2)
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ', '\t', '\n', '\r': // byteain allows whitespace between pairs
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil, malformed("bytea", text, "odd number of hex digits")
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return nil, malformed("bytea", text, "invalid hex digit")
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func decodeByteaEscape(text []byte) ([]byte, error) {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); {
		c := text[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch {
		case i+1 < len(text) && text[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		case i+3 < len(text) && isOctal(text[i+1]) && text[i+1] <= '3' && isOctal(text[i+2]) && isOctal(text[i+3]):
			out = append(out, (text[i+1]-'0')<<6|(text[i+2]-'0')<<3|(text[i+3]-'0'))
			i += 4
		default:
			return nil, malformed("bytea", text, "invalid escape")
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
