package project

import (
	"math"
	"strings"
)

func (r *renderer) unary(x *unaryExpr) (any, error) {
	v, err := r.eval(x.x)
	if err != nil {
		return nil, err
	}
	if x.op == "not" {
		return !truthy(v), nil
	}
	i, f, isInt, ok := number(v)
	switch {
	case !ok:
		return nil, errAt(x.at, ErrInvalid, "bad operand for unary %s: %s", x.op, typeName(v))
	case x.op == "+" && isInt:
		return i, nil
	case x.op == "+":
		return f, nil
	case isInt && i == math.MinInt64:
		return nil, errAt(x.at, ErrInvalid, "integer overflow")
	case isInt:
		return -i, nil
	}
	return -f, nil
}

func (r *renderer) binary(x *binExpr) (any, error) {
	l, err := r.eval(x.l)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return r.eval(x.r)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return r.eval(x.r)
	}
	rv, err := r.eval(x.r)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "~":
		var b strings.Builder
		if err := r.str(x.at, l, &b); err != nil {
			return nil, err
		}
		if err := r.str(x.at, rv, &b); err != nil {
			return nil, err
		}
		return b.String(), nil
	case "+":
		return r.add(x.at, l, rv)
	}
	return r.sub(x.at, l, rv)
}

func (r *renderer) add(at pos, l, rv any) (any, error) {
	li, lf, lInt, lok := number(l)
	ri, rf, rInt, rok := number(rv)
	switch {
	case lok && rok && lInt && rInt:
		s := li + ri
		if (s > li) != (ri > 0) {
			return nil, errAt(at, ErrInvalid, "integer overflow")
		}
		return s, nil
	case lok && rok:
		return lf + rf, nil
	}
	switch a := l.(type) {
	case string:
		if b, ok := rv.(string); ok {
			if len(a)+len(b) > maxTemplate {
				return nil, errAt(at, ErrInvalid, "string is larger than %d bytes", maxTemplate)
			}
			if err := r.spend(at, (len(a)+len(b))/64); err != nil {
				return nil, err
			}
			return a + b, nil
		}
	case []any:
		if b, ok := rv.([]any); ok {
			if err := r.spend(at, len(a)+len(b)); err != nil {
				return nil, err
			}
			return append(append(make([]any, 0, len(a)+len(b)), a...), b...), nil
		}
	}
	return nil, errAt(at, ErrInvalid, "cannot add %s and %s (use ~ to join text)", typeName(l), typeName(rv))
}

func (r *renderer) sub(at pos, l, rv any) (any, error) {
	li, lf, lInt, lok := number(l)
	ri, rf, rInt, rok := number(rv)
	switch {
	case lok && rok && lInt && rInt:
		d := li - ri
		if (d < li) != (ri > 0) {
			return nil, errAt(at, ErrInvalid, "integer overflow")
		}
		return d, nil
	case lok && rok:
		return lf - rf, nil
	}
	return nil, errAt(at, ErrInvalid, "cannot subtract %s from %s", typeName(rv), typeName(l))
}

func (r *renderer) compare(x *cmpExpr) (any, error) {
	l, err := r.eval(x.first)
	if err != nil {
		return nil, err
	}
	for i, op := range x.ops {
		rv, err := r.eval(x.rest[i])
		if err != nil {
			return nil, err
		}
		ok, err := r.compareOne(x.rest[i].where(), op, l, rv)
		if err != nil {
			return nil, err
		}
		if !ok {
			return false, nil
		}
		l = rv
	}
	return true, nil
}

func (r *renderer) compareOne(at pos, op string, l, rv any) (bool, error) {
	switch op {
	case "==", "!=":
		eq, err := r.equal(at, l, rv)
		return eq == (op == "=="), err
	case "in", "not in":
		in, err := r.contains(at, rv, l)
		return in == (op == "in"), err
	}
	_, lf, _, lok := number(l)
	_, rf, _, rok := number(rv)
	if lok && rok {
		return order(op, cmpFloat(lf, rf)), nil
	}
	ls, lstr := l.(string)
	rs, rstr := rv.(string)
	if lstr && rstr {
		return order(op, strings.Compare(ls, rs)), nil
	}
	return false, errAt(at, ErrInvalid, "%s is not supported between %s and %s", op, typeName(l), typeName(rv))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return 2 // NaN: every ordering is false
}

func order(op string, c int) bool {
	switch op {
	case "<":
		return c == -1
	case ">":
		return c == 1
	case "<=":
		return c == -1 || c == 0
	}
	return c == 1 || c == 0 // >=
}

func (r *renderer) contains(at pos, container, item any) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := item.(string)
		if !ok {
			return false, errAt(at, ErrInvalid, "'in <str>' needs a str on its left, not %s", typeName(item))
		}
		return strings.Contains(c, s), nil
	case []any:
		for _, x := range c {
			if eq, err := r.equal(at, x, item); err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	case *dict:
		for _, k := range c.keys {
			if eq, err := r.equal(at, k, item); err != nil || eq {
				return eq, err
			}
		}
		return false, nil
	}
	return false, errAt(at, ErrInvalid, "'in' needs a str, list or dict on its right, not %s", typeName(container))
}

func (r *renderer) equal(at pos, a, b any) (bool, error) {
	if err := r.spend(at, 1); err != nil {
		return false, err
	}
	_, af, _, aok := number(a)
	_, bf, _, bok := number(b)
	if aok || bok {
		return aok && bok && af == bf, nil
	}
	switch x := a.(type) {
	case nil:
		return b == nil, nil
	case string:
		y, ok := b.(string)
		return ok && x == y, nil
	case relValue:
		y, ok := b.(relValue)
		return ok && x == y, nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		for i := range x {
			if eq, err := r.equal(at, x[i], y[i]); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case *dict:
		y, ok := b.(*dict)
		if !ok || len(x.keys) != len(y.keys) {
			return false, nil
		}
		for i, k := range x.keys {
			found := false
			for j, k2 := range y.keys {
				if eq, err := r.equal(at, k, k2); err != nil {
					return false, err
				} else if eq {
					if eq, err := r.equal(at, x.vals[i], y.vals[j]); err != nil || !eq {
						return false, err
					}
					found = true
					break
				}
			}
			if !found {
				return false, nil
			}
		}
		return true, nil
	}
	return false, nil
}
