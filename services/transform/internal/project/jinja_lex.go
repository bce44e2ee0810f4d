package project

import (
	"strings"
)

// tokKind is the kind of a template token.
type tokKind uint8

const (
	tText       tokKind = iota // literal text between tags
	tVarBegin                  // {{
	tVarEnd                    // }}
	tBlockBegin                // {%
	tBlockEnd                  // %}
	tName                      // identifier or keyword
	tString                    // string literal, val decoded
	tInt                       // integer literal
	tFloat                     // float literal
	tOp                        // operator or bracket
	tEOF
)

// token is one lexeme with the place it starts.
type token struct {
	kind tokKind
	val  string
	at   pos
}

// maxTemplate bounds what the renderer reads and writes.
const maxTemplate = 16 << 20

const spaceChars = " \t\n\r\f\v"

// lexer splits a template into text and the tokens inside {{ }} and {% %};
// comments are dropped. Whitespace control ({%- -%} {{- -}} {#- -#})
// trims the neighbouring text as Jinja does.
type lexer struct {
	src      string
	i        int
	line     int
	col      int
	toks     []token
	trimNext bool // the last tag ended with '-': trim the next text's leading whitespace
}

func lex(src string) ([]token, error) {
	if len(src) > maxTemplate {
		return nil, errAt(pos{1, 1}, ErrInvalid, "template is larger than %d bytes", maxTemplate)
	}
	l := &lexer{src: src, line: 1, col: 1}
	for l.i < len(l.src) {
		textAt := l.here()
		j := indexOpen(l.src[l.i:])
		if j < 0 {
			l.text(l.src[l.i:], textAt, false)
			l.advance(len(l.src) - l.i)
			break
		}
		text := l.src[l.i : l.i+j]
		l.advance(j)
		openAt := l.here()
		open := l.src[l.i : l.i+2]
		l.advance(2)
		lstrip := l.i < len(l.src) && l.src[l.i] == '-'
		if lstrip {
			l.advance(1)
		}
		l.text(text, textAt, lstrip)
		var err error
		switch open {
		case "{#":
			err = l.comment(openAt)
		case "{{":
			l.emit(tVarBegin, "{{", openAt)
			err = l.inside(openAt, "}}", tVarEnd)
		default:
			l.emit(tBlockBegin, "{%", openAt)
			err = l.inside(openAt, "%}", tBlockEnd)
		}
		if err != nil {
			return nil, err
		}
	}
	l.emit(tEOF, "", l.here())
	return l.toks, nil
}

// indexOpen finds the next "{{", "{%" or "{#".
func indexOpen(s string) int {
	off := 0
	for {
		k := strings.IndexByte(s[off:], '{')
		if k < 0 || off+k+1 >= len(s) {
			return -1
		}
		switch s[off+k+1] {
		case '{', '%', '#':
			return off + k
		}
		off += k + 1
	}
}

func (l *lexer) here() pos { return pos{l.line, l.col} }

func (l *lexer) advance(n int) {
	for _, c := range []byte(l.src[l.i : l.i+n]) {
		if c == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
	l.i += n
}

func (l *lexer) emit(k tokKind, v string, at pos) { l.toks = append(l.toks, token{k, v, at}) }

// text emits literal text, applying pending whitespace control.
func (l *lexer) text(s string, at pos, rstrip bool) {
	if l.trimNext {
		s = strings.TrimLeft(s, spaceChars)
		l.trimNext = false
	}
	if rstrip {
		s = strings.TrimRight(s, spaceChars)
	}
	if s != "" {
		l.emit(tText, s, at)
	}
}

func (l *lexer) comment(openAt pos) error {
	k := strings.Index(l.src[l.i:], "#}")
	if k < 0 {
		return errAt(openAt, ErrSyntax, "unclosed comment {# (missing #})")
	}
	l.trimNext = k > 0 && l.src[l.i+k-1] == '-'
	l.advance(k + 2)
	return nil
}

// inside lexes the tokens of a {{ }} or {% %} tag up to its end delimiter,
// which only counts outside brackets (so {{ {'a': {'b': 1}} }} works).
func (l *lexer) inside(openAt pos, end string, endKind tokKind) error {
	var stack []byte
	for {
		for l.i < len(l.src) && strings.IndexByte(spaceChars, l.src[l.i]) >= 0 {
			l.advance(1)
		}
		if l.i >= len(l.src) {
			return errAt(openAt, ErrSyntax, "unclosed %s (missing %s)", openOf(end), end)
		}
		at := l.here()
		rest := l.src[l.i:]
		if len(stack) == 0 {
			if strings.HasPrefix(rest, end) {
				l.emit(endKind, end, at)
				l.advance(len(end))
				return nil
			}
			if rest[0] == '-' && strings.HasPrefix(rest[1:], end) {
				l.emit(endKind, end, at)
				l.advance(1 + len(end))
				l.trimNext = true
				return nil
			}
		}
		c := rest[0]
		switch {
		case isNameStart(c):
			n := 1
			for n < len(rest) && isNameChar(rest[n]) {
				n++
			}
			l.emit(tName, rest[:n], at)
			l.advance(n)
		case c >= '0' && c <= '9':
			n, kind := scanNumber(rest)
			l.emit(kind, rest[:n], at)
			l.advance(n)
		case c == '\'' || c == '"':
			s, n, ok := scanString(rest)
			if !ok {
				return errAt(at, ErrSyntax, "unterminated string")
			}
			l.emit(tString, s, at)
			l.advance(n)
		default:
			op := scanOp(rest)
			if op == "" {
				return errAt(at, ErrSyntax, "unexpected character %q", rest[0])
			}
			switch op {
			case "(", "[", "{":
				stack = append(stack, op[0])
			case ")", "]", "}":
				if len(stack) == 0 || stack[len(stack)-1] != pairOf(op[0]) {
					return errAt(at, ErrSyntax, "unexpected %q", op)
				}
				stack = stack[:len(stack)-1]
			}
			l.emit(tOp, op, at)
			l.advance(len(op))
		}
	}
}

func openOf(end string) string {
	if end == "}}" {
		return "{{"
	}
	return "{%"
}

func pairOf(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	}
	return '{'
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

// scanNumber reads 12, 1.5, 1e3 or 2.5E-2.
func scanNumber(s string) (int, tokKind) {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	kind := tInt
	if n+1 < len(s) && s[n] == '.' && isDigit(s[n+1]) {
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		kind = tFloat
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && isDigit(s[m]) {
			for m < len(s) && isDigit(s[m]) {
				m++
			}
			n, kind = m, tFloat
		}
	}
	return n, kind
}

// scanString decodes a quoted string with Python escapes; n is its length.
func scanString(s string) (val string, n int, ok bool) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, true
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '\'', '"':
				b.WriteByte(e)
			case '\n':
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

var operators = []string{
	"**", "//", "==", "!=", "<=", ">=",
	"+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", ";",
}

func scanOp(s string) string {
	for _, op := range operators {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}
