package brazil

import "strings"

// ValidPhone reports whether s is a Brazilian phone number: an optional
// country code (+55 or 55, required when the number is written in E.164
// form), a two-digit area code (DDD, 11 to 99, neither digit 0), then either
// a 9-digit mobile number starting with 9 or an 8-digit landline starting
// with 2 to 5. Spaces, dashes, dots and parentheses around the DDD are
// ignored. A trunk prefix 0 before the DDD is accepted.
func ValidPhone(s string) bool {
	_, ok := NormalizePhone(s)
	return ok
}

// NormalizePhone returns s in E.164 form (+55DDNNNNNNNNN) when ValidPhone(s)
// holds.
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	d := b.String()
	switch {
	case plus:
		if !strings.HasPrefix(d, "55") {
			return "", false
		}
		d = d[2:]
	case len(d) == 12 || len(d) == 13:
		if !strings.HasPrefix(d, "55") {
			// 0 + DDD + 9-digit mobile is also 12 digits.
			if len(d) == 12 && d[0] == '0' {
				d = d[1:]
				break
			}
			return "", false
		}
		d = d[2:]
	case (len(d) == 11 || len(d) == 12) && d[0] == '0':
		d = d[1:]
	}
	if !validNational(d) {
		return "", false
	}
	return "+55" + d, true
}

// validNational reports whether d (digits only) is DDD + subscriber number.
func validNational(d string) bool {
	if len(d) != 10 && len(d) != 11 {
		return false
	}
	if d[0] < '1' || d[1] < '1' {
		return false
	}
	sub := d[2:]
	if len(sub) == 9 {
		return sub[0] == '9'
	}
	return sub[0] >= '2' && sub[0] <= '5'
}

// ValidCEP reports whether s is a CEP: NNNNN-NNN or eight bare digits.
func ValidCEP(s string) bool {
	_, ok := NormalizeCEP(s)
	return ok
}

// NormalizeCEP returns the eight bare digits of s when ValidCEP(s) holds.
func NormalizeCEP(s string) (string, bool) {
	switch len(s) {
	case 8:
		if isDigits(s) {
			return s, true
		}
	case 9:
		if s[5] == '-' && isDigits(s[:5]) && isDigits(s[6:]) {
			return s[:5] + s[6:], true
		}
	}
	return "", false
}
