package polltest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The fakes evaluate the OData query options the real services document:
// $filter with eq ne gt ge lt le, and, or, not-free parentheses, string,
// number and null literals; $orderby with asc/desc; $top and $skip.

type tokKind int

const (
	tokIdent tokKind = iota
	tokString
	tokNumber
	tokLParen
	tokRParen
	tokEOF
)

type token struct {
	kind tokKind
	text string
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case ' ':
			i++
		case '(':
			out = append(out, token{tokLParen, "("})
			i++
		case ')':
			out = append(out, token{tokRParen, ")"})
			i++
		case '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string at %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{tokString, b.String()})
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' && s[j] != '\'' {
				j++
			}
			w := s[i:j]
			if w == "" {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			if unicode.IsDigit(rune(w[0])) || w[0] == '-' {
				out = append(out, token{tokNumber, w})
			} else {
				out = append(out, token{tokIdent, w})
			}
			i = j
		}
	}
	return append(out, token{tokEOF, ""}), nil
}

// expr is a parsed filter.
type expr func(row map[string]any) bool

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token { t := p.toks[p.pos]; p.pos++; return t }

// parseFilter parses an OData $filter expression.
func parseFilter(s string) (expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokEOF {
		return nil, fmt.Errorf("unexpected %q", p.peek().text)
	}
	return e, nil
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokIdent && p.peek().text == "or" {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(row map[string]any) bool { return a(row) || b(row) }
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokIdent && p.peek().text == "and" {
		p.next()
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(row map[string]any) bool { return a(row) && b(row) }
	}
	return l, nil
}

func (p *parser) primary() (expr, error) {
	if p.peek().kind == tokLParen {
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tokRParen {
			return nil, fmt.Errorf("missing )")
		}
		return e, nil
	}
	field := p.next()
	if field.kind != tokIdent {
		return nil, fmt.Errorf("want a field, got %q", field.text)
	}
	op := p.next()
	if op.kind != tokIdent {
		return nil, fmt.Errorf("want an operator after %s", field.text)
	}
	lit := p.next()
	var val any
	switch lit.kind {
	case tokString:
		val = lit.text
	case tokNumber:
		// Ploomes writes timestamps unquoted: 2026-04-30T00:00:00-03:00.
		if f, err := strconv.ParseFloat(lit.text, 64); err == nil {
			val = f
		} else {
			val = lit.text
		}
	case tokIdent:
		if lit.text != "null" {
			return nil, fmt.Errorf("want a literal, got %q", lit.text)
		}
		val = nil
	default:
		return nil, fmt.Errorf("want a literal after %s %s", field.text, op.text)
	}
	var test func(c int) bool
	switch op.text {
	case "eq":
		test = func(c int) bool { return c == 0 }
	case "ne":
		test = func(c int) bool { return c != 0 }
	case "gt":
		test = func(c int) bool { return c > 0 }
	case "ge":
		test = func(c int) bool { return c >= 0 }
	case "lt":
		test = func(c int) bool { return c < 0 }
	case "le":
		test = func(c int) bool { return c <= 0 }
	default:
		return nil, fmt.Errorf("unknown operator %q", op.text)
	}
	name := field.text
	return func(row map[string]any) bool {
		v := row[name]
		if v == nil || val == nil {
			// null compares equal only to null.
			switch op.text {
			case "eq":
				return v == nil && val == nil
			case "ne":
				return (v == nil) != (val == nil)
			}
			return false
		}
		return test(compare(v, val))
	}, nil
}

// compare orders two JSON-ish values: numbers numerically, timestamps with
// offsets as instants, other strings as text.
func compare(a, b any) int {
	fa, aNum := num(a)
	fb, bNum := num(b)
	if aNum && bNum {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	sa, sb := fmt.Sprint(a), fmt.Sprint(b)
	ta, errA := time.Parse(time.RFC3339Nano, sa)
	tb, errB := time.Parse(time.RFC3339Nano, sb)
	if errA == nil && errB == nil {
		return ta.Compare(tb)
	}
	return strings.Compare(sa, sb)
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// orderBy sorts rows stably by an OData $orderby list.
func orderBy(rows []map[string]any, spec string) error {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	for _, part := range strings.Split(spec, ",") {
		f := strings.Fields(part)
		if len(f) == 0 || len(f) > 2 || (len(f) == 2 && f[1] != "asc" && f[1] != "desc") {
			return fmt.Errorf("bad $orderby %q", spec)
		}
		keys = append(keys, key{f[0], len(f) == 2 && f[1] == "desc"})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range keys {
			a, b := rows[i][k.field], rows[j][k.field]
			var c int
			switch {
			case a == nil && b == nil:
				c = 0
			case a == nil:
				c = -1
			case b == nil:
				c = 1
			default:
				c = compare(a, b)
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	return nil
}
