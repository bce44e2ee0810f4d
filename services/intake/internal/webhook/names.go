package webhook

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// ValidName reports whether s can be a source or entity name: ^[a-z][a-z0-9_]{0,62}$.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// foldASCII removes diacritics and compatibility forms ("Preço" -> "Preco", "1º" -> "1o").
func foldASCII(s string) string {
	isASCII := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			isASCII = false
			break
		}
	}
	if isASCII {
		return s
	}
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)))
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// snakeCase turns a label into lowercase ASCII snake case: diacritics removed, camel case split
// ("InteractionRecord" -> "interaction_record", "Preço Unitário" -> "preco_unitario"), every run
// of other characters one underscore, no leading or trailing underscore; at most maxLen bytes.
func snakeCase(s string, maxLen int) string {
	s = foldASCII(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	pendingSep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		lower, upper, digit := c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9'
		if !lower && !upper && !digit {
			pendingSep = b.Len() > 0
			continue
		}
		if upper && b.Len() > 0 && i > 0 {
			prev := s[i-1]
			prevLowerOrDigit := (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9')
			prevUpper := prev >= 'A' && prev <= 'Z'
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			if prevLowerOrDigit || (prevUpper && nextLower) {
				pendingSep = true
			}
		}
		if pendingSep {
			b.WriteByte('_')
			pendingSep = false
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	out := b.String()
	if maxLen > 0 && len(out) > maxLen {
		out = strings.TrimRight(out[:maxLen], "_")
	}
	return out
}
