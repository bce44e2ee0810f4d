package expect

import "fmt"

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

// parseOp maps operator text to a cmpOp.
func parseOp(s string) (cmpOp, bool) {
	switch s {
	case "==", "=":
		return opEq, true
	case "!=", "<>":
		return opNe, true
	case "<":
		return opLt, true
	case "<=":
		return opLe, true
	case ">":
		return opGt, true
	case ">=":
		return opGe, true
	}
	return 0, false
}

// flip returns the operator with its operands swapped.
func (o cmpOp) flip() cmpOp {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

// holds applies the operator to a comparison result; incomparable values
// are only ever unequal.
func (o cmpOp) holds(c int, ok bool) bool {
	if !ok {
		return o == opNe
	}
	switch o {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

// compare builds the node for l op r.
func (p *condParser) compare(l operand, opText string, r operand, pos int) (cnode, error) {
	op, ok := parseOp(opText)
	if !ok {
		return nil, fmt.Errorf("unknown operator %q at offset %d", opText, pos)
	}
	if l.method != "" || r.method != "" {
		return nil, fmt.Errorf("cannot compare the result of isnull/notnull (offset %d)", pos)
	}
	if !l.isCol && r.isCol {
		l, r, op = r, l, op.flip()
	}
	switch {
	case !l.isCol:
		c, ok := compareValues(l.raw, r.raw)
		return constNode(op.holds(c, ok)), nil
	case !r.isCol && r.lit.kind == sNull:
		switch op {
		case opEq:
			return nullNode{col: l.col, want: true}, nil
		case opNe:
			return nullNode{col: l.col, want: false}, nil
		}
		return constNode(false), nil
	case !r.isCol:
		return cmpNode{col: l.col, op: op, lit: r.lit, sql: p.sql}, nil
	}
	return colCmpNode{a: l.col, b: r.col, op: op, sql: p.sql}, nil
}

// tri is a three-valued truth value: SQL conditions yield unknown for
// nulls, pandas conditions never do (NaN compares false there).
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

// truth converts a bool.
func truth(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// andNode is l and r (Kleene logic).
type andNode struct{ l, r cnode }

func (n andNode) eval(row map[string]any) tri {
	l := n.l.eval(row)
	if l == triFalse {
		return triFalse
	}
	r := n.r.eval(row)
	if r == triFalse {
		return triFalse
	}
	if l == triTrue && r == triTrue {
		return triTrue
	}
	return triUnknown
}

// orNode is l or r (Kleene logic).
type orNode struct{ l, r cnode }

func (n orNode) eval(row map[string]any) tri {
	l := n.l.eval(row)
	if l == triTrue {
		return triTrue
	}
	r := n.r.eval(row)
	if r == triTrue {
		return triTrue
	}
	if l == triFalse && r == triFalse {
		return triFalse
	}
	return triUnknown
}

// notNode negates its operand; not unknown is unknown.
type notNode struct{ n cnode }

func (n notNode) eval(row map[string]any) tri {
	switch n.n.eval(row) {
	case triTrue:
		return triFalse
	case triFalse:
		return triTrue
	}
	return triUnknown
}

// constNode is a constant truth value.
type constNode bool

func (n constNode) eval(map[string]any) tri { return truth(bool(n)) }

// nullNode tests whether a column is null (want=true) or not.
type nullNode struct {
	col  string
	want bool
}

func (n nullNode) eval(row map[string]any) tri { return truth(isNull(row[n.col]) == n.want) }

// truthNode is a bare boolean column.
type truthNode struct {
	col string
	sql bool
}

func (n truthNode) eval(row map[string]any) tri {
	v := row[n.col]
	if n.sql && isNull(v) {
		return triUnknown
	}
	b, ok := v.(bool)
	return truth(ok && b)
}

// onNull is what a comparison with a null gives: unknown in SQL; in pandas
// NaN != x is true and every other comparison false.
func onNull(sql, ne bool) tri {
	if sql {
		return triUnknown
	}
	return truth(ne)
}

// cmpNode compares a column with a literal.
type cmpNode struct {
	col string
	op  cmpOp
	lit scalar
	sql bool
}

func (n cmpNode) eval(row map[string]any) tri {
	v := row[n.col]
	if isNull(v) {
		return onNull(n.sql, n.op == opNe)
	}
	c, ok := n.lit.compare(v, false)
	return truth(n.op.holds(c, ok))
}

// colCmpNode compares two columns.
type colCmpNode struct {
	a, b string
	op   cmpOp
	sql  bool
}

func (n colCmpNode) eval(row map[string]any) tri {
	a, b := row[n.a], row[n.b]
	if isNull(a) || isNull(b) {
		return onNull(n.sql, n.op == opNe)
	}
	c, ok := compareValues(a, b)
	return truth(n.op.holds(c, ok))
}

// inNode tests membership in a literal list.
type inNode struct {
	col string
	set valueSet
	neg bool
	sql bool
}

func (n inNode) eval(row map[string]any) tri {
	v := row[n.col]
	if isNull(v) {
		return onNull(n.sql, n.neg)
	}
	return truth(n.set.has(v) != n.neg)
}
