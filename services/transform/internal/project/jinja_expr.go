package project

import (
	"fmt"
	"math"
	"strconv"
)

func (p *parser) expr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errAt(p.peek().at, ErrInvalid, "expression nested deeper than %d", maxDepth)
	}
	return p.or()
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.isName("or") {
		at := p.next().at
		var r expr
		if r, err = p.and(); err == nil {
			l = &binExpr{at: at, op: "or", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.isName("and") {
		at := p.next().at
		var r expr
		if r, err = p.not(); err == nil {
			l = &binExpr{at: at, op: "and", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (expr, error) {
	if p.isName("not") {
		at := p.next().at
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, errAt(at, ErrInvalid, "expression nested deeper than %d", maxDepth)
		}
		x, err := p.not()
		return &unaryExpr{at: at, op: "not", x: x}, err
	}
	return p.compare()
}

func (p *parser) compare() (expr, error) {
	first, err := p.math1()
	if err != nil {
		return nil, err
	}
	c := &cmpExpr{at: first.where(), first: first}
	for {
		t := p.peek()
		var op string
		switch {
		case t.kind == tOp && (t.val == "==" || t.val == "!=" || t.val == "<" || t.val == ">" || t.val == "<=" || t.val == ">="):
			op = t.val
			p.next()
		case t.kind == tName && t.val == "in":
			op = "in"
			p.next()
		case t.kind == tName && t.val == "not" && p.toks[p.i+1].kind == tName && p.toks[p.i+1].val == "in":
			op = "not in"
			p.i += 2
		default:
			if len(c.ops) == 0 {
				return first, nil
			}
			return c, nil
		}
		r, err := p.math1()
		if err != nil {
			return nil, err
		}
		c.ops, c.rest = append(c.ops, op), append(c.rest, r)
	}
}

func (p *parser) math1() (expr, error) {
	l, err := p.concat()
	for err == nil && (p.isOp("+") || p.isOp("-")) {
		t := p.next()
		var r expr
		if r, err = p.concat(); err == nil {
			l = &binExpr{at: t.at, op: t.val, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) concat() (expr, error) {
	l, err := p.unary()
	for err == nil && p.isOp("~") {
		t := p.next()
		var r expr
		if r, err = p.unary(); err == nil {
			l = &binExpr{at: t.at, op: "~", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) unary() (expr, error) {
	if p.isOp("-") || p.isOp("+") {
		t := p.next()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, errAt(t.at, ErrInvalid, "expression nested deeper than %d", maxDepth)
		}
		x, err := p.unary()
		return &unaryExpr{at: t.at, op: t.val, x: x}, err
	}
	return p.postfix()
}

func (p *parser) postfix() (expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tOp && t.val == ".":
			p.next()
			attr := p.next()
			if attr.kind != tName {
				return nil, errAt(attr.at, ErrSyntax, "expected an attribute name after '.', found %s", describe(attr))
			}
			n, ok := x.(*nameExpr)
			switch {
			case ok && n.name == "target" && attr.val == "name":
				x = &targetNameExpr{at: n.at}
				continue
			case ok && n.name == "target":
				return nil, errAt(attr.at, ErrUnsupported, "target.%s is not supported (only target.name)", attr.val)
			case ok && p.isOp("("):
				return nil, errAt(n.at, ErrUndefined, "unknown function %s.%s() (macros and packages are not supported; riacho supports %s)", n.name, attr.val, builtinList)
			}
			return nil, errAt(t.at, ErrUnsupported, "attribute access (.%s) is not supported (only target.name)", attr.val)
		case t.kind == tOp && t.val == "(":
			n, ok := x.(*nameExpr)
			if !ok {
				return nil, errAt(t.at, ErrUnsupported, "only the functions %s can be called", builtinList)
			}
			if x, err = p.call(n); err != nil {
				return nil, err
			}
		case t.kind == tOp && t.val == "[":
			return nil, errAt(t.at, ErrUnsupported, "subscripts (x[...]) are not supported")
		case t.kind == tOp && t.val == "|":
			return nil, errAt(t.at, ErrUnsupported, "filters (| name) are not supported")
		case t.kind == tName && t.val == "is":
			return nil, errAt(t.at, ErrUnsupported, "tests (x is ...) are not supported")
		case t.kind == tOp && (t.val == "*" || t.val == "/" || t.val == "//" || t.val == "%" || t.val == "**"):
			return nil, errAt(t.at, ErrUnsupported, "operator %s is not supported (use + - ~)", t.val)
		default:
			if n, ok := x.(*nameExpr); ok && n.name == "target" {
				return nil, errAt(n.at, ErrUnsupported, "target can only be used as target.name")
			}
			return x, nil
		}
	}
}

func (p *parser) call(fn *nameExpr) (expr, error) {
	arity, ok := builtins[fn.name]
	if !ok {
		return nil, errAt(fn.at, ErrUndefined, "unknown function %s() (riacho supports %s)", fn.name, builtinList)
	}
	p.next() // (
	c := &callExpr{at: fn.at, fn: fn.name}
	for !p.isOp(")") {
		t := p.peek()
		if t.kind == tName && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].val == "=" {
			p.i += 2
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.kwargs = append(c.kwargs, kwargExpr{at: t.at, name: t.val, x: x})
		} else {
			if len(c.kwargs) > 0 {
				return nil, errAt(t.at, ErrSyntax, "positional argument after keyword argument")
			}
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, x)
		}
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	if _, err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if len(c.args) < arity.min || len(c.args) > arity.max {
		return nil, errAt(fn.at, ErrInvalid, "%s() takes %s, not %d", fn.name, arityText(fn.name, arity.min, arity.max), len(c.args))
	}
	if len(c.kwargs) > 0 && fn.name != "config" {
		return nil, errAt(c.kwargs[0].at, ErrUnsupported, "%s() takes no keyword argument %s", fn.name, c.kwargs[0].name)
	}
	if fn.name == "config" && len(c.args) == 1 && len(c.kwargs) > 0 {
		return nil, errAt(fn.at, ErrInvalid, "config() takes keyword arguments or one dict, not both")
	}
	return c, nil
}

func arityText(fn string, lo, hi int) string {
	switch {
	case fn == "config":
		return "keyword arguments or one dict argument"
	case lo == hi && lo == 0:
		return "no arguments"
	case lo == hi:
		return fmt.Sprintf("%d arguments", lo)
	}
	return fmt.Sprintf("%d or %d arguments", lo, hi)
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case tName:
		switch t.val {
		case "true", "True":
			return &litExpr{t.at, true}, nil
		case "false", "False":
			return &litExpr{t.at, false}, nil
		case "none", "None":
			return &litExpr{t.at, nil}, nil
		case "this":
			return nil, errAt(t.at, ErrUnsupported, "{{ this }} is not supported")
		case "and", "or", "not", "in", "is", "if", "else":
			return nil, errAt(t.at, ErrSyntax, "unexpected %q", t.val)
		}
		return &nameExpr{t.at, t.val}, nil
	case tString:
		s := t.val
		for p.peek().kind == tString { // adjacent literals concatenate
			s += p.next().val
		}
		return &litExpr{t.at, s}, nil
	case tInt:
		n, err := strconv.ParseInt(t.val, 10, 64)
		if err != nil {
			return nil, errAt(t.at, ErrInvalid, "integer %s is too large", t.val)
		}
		return &litExpr{t.at, n}, nil
	case tFloat:
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, errAt(t.at, ErrInvalid, "number %s is out of range", t.val)
		}
		return &litExpr{t.at, f}, nil
	case tOp:
		switch t.val {
		case "(":
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if p.isOp(",") {
				return nil, errAt(p.peek().at, ErrUnsupported, "tuples are not supported; use a list [a, b]")
			}
			_, err = p.expectOp(")")
			return x, err
		case "[":
			return p.list(t)
		case "{":
			return p.dict(t)
		}
	}
	return nil, errAt(t.at, ErrSyntax, "unexpected %s in expression", describe(t))
}

func (p *parser) list(open token) (expr, error) {
	l := &listExpr{at: open.at}
	for !p.isOp("]") {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, x)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	_, err := p.expectOp("]")
	return l, err
}

func (p *parser) dict(open token) (expr, error) {
	d := &dictExpr{at: open.at}
	for !p.isOp("}") {
		k, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expectOp(":"); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		d.keys, d.vals = append(d.keys, k), append(d.vals, v)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	_, err := p.expectOp("}")
	return d, err
}
