package project

import (
	"strings"
)

// hooks are what a template asks of the project while it renders.
type hooks interface {
	ref(pkg, name string, at pos) (any, error)
	source(src, table string, at pos) (any, error)
	config(args []configArg) error
	varValue(name string) (any, bool, error)
	envValue(name string) (string, bool)
	targetName() string
}

// configArg is one config() keyword argument, evaluated.
type configArg struct {
	key string
	val any
	at  pos
}

// renderBudget bounds the work of one render (compares, reprs, copies):
// without loops a template cannot run long, but nested lists can be large.
const renderBudget = 1 << 22

type renderer struct {
	h      hooks
	vars   map[string]any
	out    strings.Builder
	budget int
}

// render runs the template; set variables start empty each time.
func (t *template) render(h hooks) (string, error) {
	r := &renderer{h: h, vars: map[string]any{}, budget: renderBudget}
	if err := r.nodes(t.nodes); err != nil {
		return "", err
	}
	return r.out.String(), nil
}

func (r *renderer) spend(at pos, n int) error {
	r.budget -= n
	if r.budget < 0 {
		return errAt(at, ErrInvalid, "template does too much work (values too large)")
	}
	return nil
}

func (r *renderer) nodes(ns []any) error {
	for _, n := range ns {
		switch n := n.(type) {
		case *textNode:
			r.out.WriteString(n.text)
		case *outputNode:
			v, err := r.eval(n.x)
			if err != nil {
				return err
			}
			if err := r.str(n.x.where(), v, &r.out); err != nil {
				return err
			}
		case *setNode:
			v, err := r.eval(n.x)
			if err != nil {
				return err
			}
			r.vars[n.name] = v
		case *ifNode:
			body := n.els
			for i, c := range n.conds {
				v, err := r.eval(c)
				if err != nil {
					return err
				}
				if truthy(v) {
					body = n.bodies[i]
					break
				}
			}
			if err := r.nodes(body); err != nil {
				return err
			}
		}
		if r.out.Len() > maxTemplate {
			return errAt(pos{1, 1}, ErrInvalid, "rendered SQL is larger than %d bytes", maxTemplate)
		}
	}
	return nil
}

func (r *renderer) eval(x expr) (any, error) {
	if err := r.spend(x.where(), 1); err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case *litExpr:
		return x.v, nil
	case *nameExpr:
		v, ok := r.vars[x.name]
		if !ok {
			if _, fn := builtins[x.name]; fn {
				return nil, errAt(x.at, ErrInvalid, "%s is a function: call it, %s(...)", x.name, x.name)
			}
			return nil, errAt(x.at, ErrUndefined, "undefined name %s (set it with {%% set %s = ... %%})", x.name, x.name)
		}
		return v, nil
	case *targetNameExpr:
		return r.h.targetName(), nil
	case *listExpr:
		out := make([]any, 0, len(x.items))
		for _, it := range x.items {
			v, err := r.eval(it)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *dictExpr:
		return r.dict(x)
	case *unaryExpr:
		return r.unary(x)
	case *binExpr:
		return r.binary(x)
	case *cmpExpr:
		return r.compare(x)
	case *callExpr:
		return r.call(x)
	}
	return nil, errAt(x.where(), ErrSyntax, "unknown expression")
}

func (r *renderer) dict(x *dictExpr) (any, error) {
	d := &dict{}
	for i, kx := range x.keys {
		k, err := r.eval(kx)
		if err != nil {
			return nil, err
		}
		switch k.(type) {
		case []any, *dict:
			return nil, errAt(kx.where(), ErrInvalid, "a %s cannot be a dict key", typeName(k))
		}
		v, err := r.eval(x.vals[i])
		if err != nil {
			return nil, err
		}
		replaced := false
		for j, old := range d.keys {
			if eq, err := r.equal(kx.where(), old, k); err != nil {
				return nil, err
			} else if eq {
				d.vals[j], replaced = v, true
				break
			}
		}
		if !replaced {
			d.keys, d.vals = append(d.keys, k), append(d.vals, v)
		}
	}
	return d, nil
}
