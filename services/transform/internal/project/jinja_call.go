package project

import (
	"strconv"
)

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// call runs one of the builtins; the parser checked name and arity.
func (r *renderer) call(c *callExpr) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := r.eval(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	switch c.fn {
	case "is_incremental":
		return false, nil // every micro-batch is new data
	case "config":
		return r.config(c, args)
	}
	names, err := stringArgs(c, args)
	if err != nil {
		return nil, err
	}
	switch c.fn {
	case "ref":
		if len(names) == 2 {
			return r.h.ref(names[0], names[1], c.at)
		}
		return r.h.ref("", names[0], c.at)
	case "source":
		return r.h.source(names[0], names[1], c.at)
	case "var":
		v, ok, err := r.h.varValue(names[0])
		if err != nil {
			return nil, errAt(c.at, ErrInvalid, "var(%s): %v", strconv.Quote(names[0]), err)
		}
		if ok {
			return v, nil
		}
		if len(args) == 2 {
			return args[1], nil
		}
		return nil, errAt(c.at, ErrUndefined, "var(%s) is not set and has no default: define it under vars in dbt_project.yml or pass it with Options.Vars", strconv.Quote(names[0]))
	}
	// env_var
	if v, ok := r.h.envValue(names[0]); ok {
		return v, nil
	}
	if len(args) == 2 {
		return args[1], nil
	}
	return nil, errAt(c.at, ErrUndefined, "env_var(%s): the environment variable is not set and there is no default", strconv.Quote(names[0]))
}

// stringArgs checks that the name arguments (all but a default) are strings.
func stringArgs(c *callExpr, args []any) ([]string, error) {
	n := len(args)
	if c.fn == "var" || c.fn == "env_var" {
		n = 1
	}
	out := make([]string, n)
	for i := range n {
		s, ok := args[i].(string)
		if !ok {
			return nil, errAt(c.args[i].where(), ErrInvalid, "%s() argument %d must be a string, not %s", c.fn, i+1, typeName(args[i]))
		}
		out[i] = s
	}
	return out, nil
}

func (r *renderer) config(c *callExpr, args []any) (any, error) {
	var out []configArg
	if len(args) == 1 {
		d, ok := args[0].(*dict)
		if !ok {
			return nil, errAt(c.args[0].where(), ErrInvalid, "config() takes a dict, not %s", typeName(args[0]))
		}
		for i, k := range d.keys {
			ks, ok := k.(string)
			if !ok {
				return nil, errAt(c.args[0].where(), ErrInvalid, "config key %v is not a string", k)
			}
			v, err := toGo(d.vals[i])
			if err != nil {
				return nil, errAt(c.args[0].where(), ErrInvalid, "config %s: %v", ks, err)
			}
			out = append(out, configArg{key: ks, val: v, at: c.args[0].where()})
		}
	}
	for _, kw := range c.kwargs {
		v, err := r.eval(kw.x)
		if err != nil {
			return nil, err
		}
		g, err := toGo(v)
		if err != nil {
			return nil, errAt(kw.at, ErrInvalid, "config %s: %v", kw.name, err)
		}
		out = append(out, configArg{key: kw.name, val: g, at: kw.at})
	}
	if err := r.h.config(out); err != nil {
		return nil, err
	}
	return "", nil
}
