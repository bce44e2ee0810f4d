// Package brazil validates Brazilian identifiers and contact data: CPF,
// CNPJ (numeric and the alphanumeric form valid from July 2026), phone
// numbers under the +55 numbering plan, and CEP postal codes.
//
// Validators accept the usual formatted and unformatted forms and never
// panic on arbitrary input; Normalize functions return the canonical
// unformatted form that riacho stores.
package brazil

// cpfLen is the number of digits in a CPF.
const cpfLen = 11

// cnpjLen is the number of characters in a CNPJ.
const cnpjLen = 14

// ValidCPF reports whether s is a valid CPF, formatted (529.982.247-25) or
// as 11 bare digits. CPFs made of one repeated digit are rejected.
func ValidCPF(s string) bool {
	d, ok := cpfChars(s)
	if !ok || allEqual(d[:]) {
		return false
	}
	dv1 := checkDigit(d[:9], []int{10, 9, 8, 7, 6, 5, 4, 3, 2})
	dv2 := checkDigit(d[:10], []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2})
	return int(d[9]-'0') == dv1 && int(d[10]-'0') == dv2
}

// NormalizeCPF returns the 11 bare digits of s when s is shaped like a CPF
// (either 11 digits or NNN.NNN.NNN-NN); it does not check the digits.
func NormalizeCPF(s string) (string, bool) {
	d, ok := cpfChars(s)
	if !ok {
		return "", false
	}
	return string(d[:]), true
}

// cpfChars extracts the 11 digits of a CPF-shaped s without allocating.
func cpfChars(s string) (d [cpfLen]byte, ok bool) {
	switch len(s) {
	case cpfLen:
		copy(d[:], s)
	case 14: // NNN.NNN.NNN-NN
		if s[3] != '.' || s[7] != '.' || s[11] != '-' {
			return d, false
		}
		copy(d[0:3], s[0:3])
		copy(d[3:6], s[4:7])
		copy(d[6:9], s[8:11])
		copy(d[9:11], s[12:14])
	default:
		return d, false
	}
	for _, c := range d {
		if !isDigit(c) {
			return d, false
		}
	}
	return d, true
}

// ValidCNPJ reports whether s is a valid CNPJ, formatted
// (11.222.333/0001-81) or as 14 bare characters. The first 12 characters may
// be digits or upper-case letters (alphanumeric CNPJ, July 2026); the two
// check digits are always numeric. Letters must be upper case, as the
// Receita Federal issues them. A CNPJ of one repeated character is rejected.
func ValidCNPJ(s string) bool {
	d, ok := cnpjChars(s)
	if !ok || allEqual(d[:]) {
		return false
	}
	dv1 := checkDigit(d[:12], []int{5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2})
	dv2 := checkDigit(d[:13], []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2})
	return int(d[12]-'0') == dv1 && int(d[13]-'0') == dv2
}

// NormalizeCNPJ returns the 14 bare characters of s when s is shaped like a
// CNPJ (14 bare characters or NN.NNN.NNN/NNNN-NN, the first 12 digits or
// upper-case letters, the last 2 digits); it does not check the digits.
func NormalizeCNPJ(s string) (string, bool) {
	d, ok := cnpjChars(s)
	if !ok {
		return "", false
	}
	return string(d[:]), true
}

// cnpjChars extracts the 14 characters of a CNPJ-shaped s without
// allocating.
func cnpjChars(s string) (d [cnpjLen]byte, ok bool) {
	switch len(s) {
	case cnpjLen:
		copy(d[:], s)
	case 18: // NN.NNN.NNN/NNNN-NN
		if s[2] != '.' || s[6] != '.' || s[10] != '/' || s[15] != '-' {
			return d, false
		}
		copy(d[0:2], s[0:2])
		copy(d[2:5], s[3:6])
		copy(d[5:8], s[7:10])
		copy(d[8:12], s[11:15])
		copy(d[12:14], s[16:18])
	default:
		return d, false
	}
	for i, c := range d {
		if !isDigit(c) && (i >= 12 || c < 'A' || c > 'Z') {
			return d, false
		}
	}
	return d, true
}

// checkDigit computes a mod-11 check digit over chars (value = ASCII - 48,
// so '0'..'9' are 0..9 and 'A'..'Z' are 17..42) with the given weights.
func checkDigit(chars []byte, weights []int) int {
	sum := 0
	for i := 0; i < len(chars); i++ {
		sum += int(chars[i]-'0') * weights[i]
	}
	r := sum % 11
	if r < 2 {
		return 0
	}
	return 11 - r
}

// allEqual reports whether every byte of s is the same.
func allEqual(s []byte) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
