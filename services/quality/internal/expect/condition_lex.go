package expect

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is a row_condition token kind.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tStr
	tNum
	tOp // == = != <> < <= > >=
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tDot
	tAnd
	tOr
	tNot
	tMinus
)

// token is one lexeme of a row_condition.
type token struct {
	kind   tokKind
	text   string
	quoted bool // an identifier written `like this` or "like this" (SQL)
	pos    int
}

// lexCondition splits a row_condition into tokens. In SQL mode double
// quotes delimit identifiers; otherwise they delimit strings.
func lexCondition(src string, sql bool) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == '.' || c == '-':
			if c == '.' && i+1 < len(src) && isDigit(src[i+1]) {
				n := scanNumber(src, i)
				toks = append(toks, token{kind: tNum, text: src[i:n], pos: i})
				i = n
				continue
			}
			toks = append(toks, token{kind: punct(c), text: string(c), pos: i})
			i++
		case c == '&' || c == '|':
			n := i + 1
			if n < len(src) && src[n] == c {
				n++
			}
			kind := tAnd
			if c == '|' {
				kind = tOr
			}
			toks = append(toks, token{kind: kind, text: src[i:n], pos: i})
			i = n
		case c == '~' || (c == '!' && (i+1 >= len(src) || src[i+1] != '=')):
			toks = append(toks, token{kind: tNot, text: string(c), pos: i})
			i++
		case strings.ContainsRune("=!<>", rune(c)):
			n := i + 1
			if n < len(src) && (src[n] == '=' || (c == '<' && src[n] == '>')) {
				n++
			}
			op := src[i:n]
			if op == "!" {
				return nil, fmt.Errorf("unexpected %q at offset %d", op, i)
			}
			toks = append(toks, token{kind: tOp, text: op, pos: i})
			i = n
		case isDigit(c):
			n := scanNumber(src, i)
			toks = append(toks, token{kind: tNum, text: src[i:n], pos: i})
			i = n
		case c == '\'' || c == '"' || c == '`':
			s, n, err := scanQuoted(src, i)
			if err != nil {
				return nil, err
			}
			kind, quoted := tStr, false
			if c == '`' || (c == '"' && sql) {
				kind, quoted = tIdent, true
			}
			toks = append(toks, token{kind: kind, text: s, quoted: quoted, pos: i})
			i = n
		default:
			r, size := utf8.DecodeRuneInString(src[i:])
			if r != '_' && !unicode.IsLetter(r) {
				return nil, fmt.Errorf("unexpected %q at offset %d", r, i)
			}
			n := i + size
			for n < len(src) {
				r, size = utf8.DecodeRuneInString(src[n:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				n += size
			}
			toks = append(toks, token{kind: tIdent, text: src[i:n], pos: i})
			i = n
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// punct returns the token kind of a one-character punctuation mark.
func punct(c byte) tokKind {
	switch c {
	case '(':
		return tLParen
	case ')':
		return tRParen
	case '[':
		return tLBrack
	case ']':
		return tRBrack
	case ',':
		return tComma
	case '.':
		return tDot
	}
	return tMinus
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber returns the end of the number starting at i.
func scanNumber(src string, i int) int {
	n := i
	for n < len(src) && (isDigit(src[n]) || src[n] == '.' || src[n] == '_') {
		n++
	}
	if n < len(src) && (src[n] == 'e' || src[n] == 'E') {
		m := n + 1
		if m < len(src) && (src[m] == '+' || src[m] == '-') {
			m++
		}
		if m < len(src) && isDigit(src[m]) {
			for m < len(src) && isDigit(src[m]) {
				m++
			}
			n = m
		}
	}
	return n
}

// scanQuoted reads a quoted string at i, handling backslash escapes and
// SQL's doubled quotes; it returns the unquoted text and the end offset.
func scanQuoted(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	for n := i + 1; n < len(src); n++ {
		c := src[n]
		switch {
		case c == '\\' && n+1 < len(src):
			n++
			switch src[n] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(src[n])
			}
		case c == q && n+1 < len(src) && src[n+1] == q:
			b.WriteByte(q)
			n++
		case c == q:
			return b.String(), n + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated quote at offset %d", i)
}
