package project

import (
	"os"
	"slices"
	"strconv"
)

// use is one ref() or source() a model ran, in order.
type use struct {
	model string  // a model's name, or
	src   *Source // a source (also via an alias)
	at    pos
}

// modelHooks answers a model's template. The first render records
// config(); the final one knows which refs are ephemeral.
type modelHooks struct {
	l     *loader
	st    *modelState
	final bool
}

func quoteIdent(s string) string { return `"` + s + `"` }

func sourceTable(s *Source) string { return "src__" + s.Name + "__" + s.Table }

func (h *modelHooks) ref(pkg, name string, at pos) (any, error) {
	if pkg != "" && pkg != h.l.proj.Name {
		return nil, errAt(at, ErrUnsupported, "ref(%s, %s): packages are not supported (this project is %s)", strconv.Quote(pkg), strconv.Quote(name), h.l.proj.Name)
	}
	if m, ok := h.l.models[name]; ok {
		h.st.uses = append(h.st.uses, use{model: name, at: at})
		if h.final && m.m.Config.Materialized == "ephemeral" {
			return relValue{"__dbt__cte__" + name}, nil
		}
		return relValue{quoteIdent("ref__" + name)}, nil
	}
	if s, ok := h.l.aliases[name]; ok {
		h.st.uses = append(h.st.uses, use{src: s, at: at})
		return relValue{quoteIdent(sourceTable(s))}, nil
	}
	var names []string
	for n := range h.l.models {
		names = append(names, n)
	}
	for a := range h.l.aliases {
		names = append(names, a)
	}
	return nil, errAt(at, ErrUndefined, "ref(%s): no model or source alias is named %s%s", strconv.Quote(name), name, suggest(name, names))
}

func (h *modelHooks) source(src, table string, at pos) (any, error) {
	s, ok := h.l.proj.Sources[src+"."+table]
	if !ok {
		var keys []string
		for k := range h.l.proj.Sources {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, errAt(at, ErrUndefined, "source(%s, %s): no such source table is declared%s", strconv.Quote(src), strconv.Quote(table), suggest(src+"."+table, keys))
	}
	h.st.uses = append(h.st.uses, use{src: s, at: at})
	return relValue{quoteIdent(sourceTable(s))}, nil
}

func (h *modelHooks) config(args []configArg) error {
	if h.final {
		return nil
	}
	for _, a := range args {
		if ce := h.st.inFile.set(a.key, a.val); ce != nil {
			return errAt(a.at, ce.kind, "%s", ce.text())
		}
	}
	return nil
}

func (h *modelHooks) varValue(name string) (any, bool, error) {
	v, ok := h.l.opts.Vars[name]
	if !ok {
		v, ok = h.l.pf.vars[name]
	}
	if !ok {
		return nil, false, nil
	}
	tv, err := fromGo(v)
	return tv, err == nil, err
}

func (h *modelHooks) envValue(name string) (string, bool) {
	if h.l.opts.Env != nil {
		return h.l.opts.Env(name)
	}
	return os.LookupEnv(name)
}

func (h *modelHooks) targetName() string {
	if h.l.opts.Target == "" {
		return "dev"
	}
	return h.l.opts.Target
}
