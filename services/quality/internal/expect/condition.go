package expect

import (
	"fmt"
	"strconv"
	"strings"
)

// maxConditionDepth bounds nesting in a row_condition.
const maxConditionDepth = 64

// condition is a compiled row_condition: a pandas-like boolean expression
// (`status == "Won" and amount > 5`), GE's `col("amount") > 5` form or
// SQL (`status = 'Won' AND amount IS NOT NULL`).
type condition struct {
	root cnode
}

// cnode is a boolean node of a condition.
type cnode interface {
	eval(row map[string]any) tri
}

// holds reports whether row satisfies the condition (unknown does not).
func (c *condition) holds(row map[string]any) bool { return c.root.eval(row) == triTrue }

// compileCondition parses text for the given condition_parser.
func compileCondition(text, parser string) (*condition, error) {
	sql := false
	switch strings.ToLower(parser) {
	case "", "pandas", "python", "great_expectations", "great_expectations__experimental__":
	case "spark", "sql":
		sql = true
	default:
		return nil, fmt.Errorf("unknown condition_parser %q (want pandas, great_expectations, spark or sql)", parser)
	}
	toks, err := lexCondition(text, sql)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks, sql: sql}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
	}
	return &condition{root: root}, nil
}

// condParser is a recursive-descent parser over condition tokens.
type condParser struct {
	toks []token
	i    int
	sql  bool
}

func (p *condParser) peek() token { return p.toks[p.i] }

func (p *condParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// keyword reports whether the next token is the identifier kw (any case).
func (p *condParser) keyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && !t.quoted && strings.EqualFold(t.text, kw)
}

func (p *condParser) or(depth int) (cnode, error) {
	if depth > maxConditionDepth {
		return nil, fmt.Errorf("condition nested too deeply")
	}
	l, err := p.and(depth)
	for err == nil && (p.peek().kind == tOr || p.keyword("or")) {
		p.next()
		var r cnode
		if r, err = p.and(depth); err == nil {
			l = orNode{l, r}
		}
	}
	return l, err
}

func (p *condParser) and(depth int) (cnode, error) {
	l, err := p.not(depth)
	for err == nil && (p.peek().kind == tAnd || p.keyword("and")) {
		p.next()
		var r cnode
		if r, err = p.not(depth); err == nil {
			l = andNode{l, r}
		}
	}
	return l, err
}

func (p *condParser) not(depth int) (cnode, error) {
	if p.peek().kind == tNot || p.keyword("not") {
		p.next()
		if depth > maxConditionDepth {
			return nil, fmt.Errorf("condition nested too deeply")
		}
		n, err := p.not(depth + 1)
		return notNode{n}, err
	}
	if p.peek().kind == tLParen {
		p.next()
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tRParen {
			return nil, fmt.Errorf("want ) at offset %d", t.pos)
		}
		return n, nil
	}
	return p.predicate()
}

// operand is a column reference or a literal.
type operand struct {
	col    string
	isCol  bool
	lit    scalar
	raw    any
	method string // isnull / notnull called on the column
}

func (p *condParser) operand() (operand, error) {
	t := p.next()
	switch t.kind {
	case tStr:
		return literal(t.text)
	case tMinus:
		n := p.next()
		if n.kind != tNum {
			return operand{}, fmt.Errorf("want a number after - at offset %d", t.pos)
		}
		return numLiteral("-"+n.text, n.pos)
	case tNum:
		return numLiteral(t.text, t.pos)
	case tIdent:
		if !t.quoted {
			switch strings.ToLower(t.text) {
			case "true":
				return literal(true)
			case "false":
				return literal(false)
			case "none", "null", "nan":
				return literal(nil)
			case "col":
				if p.peek().kind == tLParen {
					return p.colCall()
				}
			}
		}
		return p.methods(operand{col: t.text, isCol: true})
	}
	return operand{}, fmt.Errorf("unexpected %q at offset %d", t.text, t.pos)
}

// colCall parses GE's col("name") column reference.
func (p *condParser) colCall() (operand, error) {
	p.next()
	name := p.next()
	if name.kind != tStr && name.kind != tIdent {
		return operand{}, fmt.Errorf("want a column name in col() at offset %d", name.pos)
	}
	if t := p.next(); t.kind != tRParen {
		return operand{}, fmt.Errorf("want ) at offset %d", t.pos)
	}
	return p.methods(operand{col: name.text, isCol: true})
}

// methods parses .isnull() / .notnull() (and GE's notNull()) after a column.
func (p *condParser) methods(o operand) (operand, error) {
	if p.peek().kind != tDot {
		return o, nil
	}
	p.next()
	m := p.next()
	if m.kind != tIdent || p.next().kind != tLParen || p.next().kind != tRParen {
		return o, fmt.Errorf("want a method call after . at offset %d", m.pos)
	}
	switch strings.ToLower(m.text) {
	case "isnull", "isna":
		o.method = "isnull"
	case "notnull", "notna":
		o.method = "notnull"
	default:
		return o, fmt.Errorf("unsupported method %q at offset %d", m.text, m.pos)
	}
	return o, nil
}

// literal wraps a literal value.
func literal(v any) (operand, error) {
	s, _ := newScalar(v)
	return operand{lit: s, raw: v}, nil
}

// numLiteral parses a number literal.
func numLiteral(text string, pos int) (operand, error) {
	clean := strings.ReplaceAll(text, "_", "")
	if i, err := strconv.ParseInt(clean, 10, 64); err == nil {
		return literal(i)
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		return operand{}, fmt.Errorf("bad number %q at offset %d", text, pos)
	}
	return literal(f)
}

func (p *condParser) predicate() (cnode, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tOp:
		p.next()
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return p.compare(l, t.text, r, t.pos)
	case p.keyword("is"):
		p.next()
		neg := p.keyword("not")
		if neg {
			p.next()
		}
		if !p.keyword("null") && !p.keyword("none") {
			return nil, fmt.Errorf("want NULL after IS at offset %d", p.peek().pos)
		}
		p.next()
		if !l.isCol {
			return constNode(l.lit.kind == sNull != neg), nil
		}
		return nullNode{col: l.col, want: !neg}, nil
	case p.keyword("in") || p.keyword("not"):
		neg := p.keyword("not")
		if neg {
			p.next()
			if !p.keyword("in") {
				return nil, fmt.Errorf("want IN after NOT at offset %d", p.peek().pos)
			}
		}
		p.next()
		return p.in(l, neg)
	}
	if !l.isCol {
		if l.lit.kind == sBool {
			return constNode(l.lit.b), nil
		}
		return nil, fmt.Errorf("a literal is not a condition (offset %d)", t.pos)
	}
	switch l.method {
	case "isnull":
		return nullNode{col: l.col, want: true}, nil
	case "notnull":
		return nullNode{col: l.col, want: false}, nil
	}
	return truthNode{col: l.col, sql: p.sql}, nil
}

// in parses a [list] or (list) of literals after IN.
func (p *condParser) in(l operand, neg bool) (cnode, error) {
	open := p.next()
	closer := tRBrack
	if open.kind == tLParen {
		closer = tRParen
	} else if open.kind != tLBrack {
		return nil, fmt.Errorf("want a list after IN at offset %d", open.pos)
	}
	var vals []any
	for p.peek().kind != closer {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		if o.isCol {
			return nil, fmt.Errorf("IN lists take literals only (offset %d)", open.pos)
		}
		vals = append(vals, o.raw)
		if p.peek().kind == tComma {
			p.next()
		} else if p.peek().kind != closer {
			return nil, fmt.Errorf("want , or the end of the list at offset %d", p.peek().pos)
		}
	}
	p.next()
	if !l.isCol {
		return nil, fmt.Errorf("IN needs a column on its left")
	}
	set, err := newValueSet(vals)
	if err != nil {
		return nil, err
	}
	return inNode{col: l.col, set: set, neg: neg, sql: p.sql}, nil
}
