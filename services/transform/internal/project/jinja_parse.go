package project

import (
	"fmt"
	"strconv"
)

type parser struct {
	toks  []token
	i     int
	depth int
}

func parseTemplate(src string) (*template, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	nodes, tag, err := p.body(nil)
	if err != nil {
		return nil, err
	}
	if tag.kind != tEOF {
		return nil, errAt(tag.at, ErrSyntax, "unexpected {%% %s %%}", tag.val)
	}
	return &template{nodes: nodes}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.val == op
}

func (p *parser) isName(name string) bool {
	t := p.peek()
	return t.kind == tName && t.val == name
}

func (p *parser) expectOp(op string) (token, error) {
	t := p.next()
	if t.kind != tOp || t.val != op {
		return t, errAt(t.at, ErrSyntax, "expected %q, found %s", op, describe(t))
	}
	return t, nil
}

// expectEnd consumes the end of a tag, explaining what stands in its way.
func (p *parser) expectEnd(kind tokKind) error {
	t := p.next()
	if t.kind == kind {
		return nil
	}
	switch {
	case t.kind == tOp && t.val == "|":
		return errAt(t.at, ErrUnsupported, "filters (| name) are not supported")
	case t.kind == tName && t.val == "if":
		return errAt(t.at, ErrUnsupported, "conditional expressions (x if y else z) are not supported; use {%% if %%}")
	case t.kind == tName && t.val == "is":
		return errAt(t.at, ErrUnsupported, "tests (x is ...) are not supported")
	case t.kind == tOp && (t.val == "*" || t.val == "/" || t.val == "//" || t.val == "%" || t.val == "**"):
		return errAt(t.at, ErrUnsupported, "operator %s is not supported (use + - ~)", t.val)
	case t.kind == tOp && t.val == "[":
		return errAt(t.at, ErrUnsupported, "subscripts (x[...]) are not supported")
	}
	want := "}}"
	if kind == tBlockEnd {
		want = "%}"
	}
	return errAt(t.at, ErrSyntax, "expected %s, found %s", want, describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tString:
		return strconv.Quote(t.val)
	case tText:
		return "text"
	}
	return fmt.Sprintf("%q", t.val)
}

// body parses nodes until EOF or a {% tag %} in stop; it returns that tag's
// name token (or the EOF token), with the tag's name consumed.
func (p *parser) body(stop map[string]bool) ([]any, token, error) {
	var nodes []any
	for {
		t := p.next()
		switch t.kind {
		case tEOF:
			return nodes, t, nil
		case tText:
			nodes = append(nodes, &textNode{t.val})
		case tVarBegin:
			x, err := p.expr()
			if err != nil {
				return nil, t, err
			}
			if err := p.expectEnd(tVarEnd); err != nil {
				return nil, t, err
			}
			nodes = append(nodes, &outputNode{x})
		case tBlockBegin:
			tag := p.next()
			if tag.kind != tName {
				return nil, t, errAt(tag.at, ErrSyntax, "expected a tag name after {%%, found %s", describe(tag))
			}
			if stop[tag.val] {
				return nodes, tag, nil
			}
			n, err := p.tag(tag)
			if err != nil {
				return nil, t, err
			}
			nodes = append(nodes, n)
		default:
			return nil, t, errAt(t.at, ErrSyntax, "unexpected %s", describe(t))
		}
	}
}

func (p *parser) tag(tag token) (any, error) {
	switch tag.val {
	case "if":
		return p.ifTag(tag)
	case "set":
		return p.setTag(tag)
	case "elif", "else", "endif":
		return nil, errAt(tag.at, ErrSyntax, "{%% %s %%} without {%% if %%}", tag.val)
	}
	if jinjaTags[tag.val] {
		return nil, errAt(tag.at, ErrUnsupported, "{%% %s %%} is not supported (riacho runs if/elif/else/endif and set)", tag.val)
	}
	return nil, errAt(tag.at, ErrUnsupported, "unknown tag {%% %s %%}", tag.val)
}

func (p *parser) ifTag(tag token) (any, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errAt(tag.at, ErrInvalid, "{%% if %%} nested deeper than %d", maxDepth)
	}
	n := &ifNode{}
	stop := map[string]bool{"elif": true, "else": true, "endif": true}
	for {
		cond, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expectEnd(tBlockEnd); err != nil {
			return nil, err
		}
		body, end, err := p.body(stop)
		if err != nil {
			return nil, err
		}
		n.conds, n.bodies = append(n.conds, cond), append(n.bodies, body)
		switch end.val {
		case "elif":
			continue
		case "else":
			if err := p.expectEnd(tBlockEnd); err != nil {
				return nil, err
			}
			els, end, err := p.body(map[string]bool{"endif": true})
			if err != nil {
				return nil, err
			}
			if end.kind == tEOF {
				return nil, errAt(tag.at, ErrSyntax, "unclosed {%% if %%} (missing {%% endif %%})")
			}
			n.els = els
		}
		if end.kind == tEOF {
			return nil, errAt(tag.at, ErrSyntax, "unclosed {%% if %%} (missing {%% endif %%})")
		}
		return n, p.expectEnd(tBlockEnd)
	}
}

func (p *parser) setTag(tag token) (any, error) {
	name := p.next()
	if name.kind != tName {
		return nil, errAt(name.at, ErrSyntax, "expected a variable name after set, found %s", describe(name))
	}
	if p.peek().kind == tBlockEnd {
		return nil, errAt(tag.at, ErrUnsupported, "block set ({%% set x %%}...{%% endset %%}) is not supported")
	}
	if p.isOp(",") {
		return nil, errAt(p.peek().at, ErrUnsupported, "set of several names is not supported")
	}
	if _, ok := builtins[name.val]; ok || reservedName(name.val) {
		return nil, errAt(name.at, ErrInvalid, "cannot set %s: the name is reserved", name.val)
	}
	if _, err := p.expectOp("="); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	return &setNode{name: name.val, x: x}, p.expectEnd(tBlockEnd)
}

func reservedName(s string) bool {
	switch s {
	case "target", "this", "true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else":
		return true
	}
	return false
}
