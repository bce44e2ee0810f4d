package project

import (
	"slices"
	"strings"
)

// graph checks for cycles, orders the enabled models (inputs first),
// renders them again now that ephemeral models are known, and compiles.
func (l *loader) graph() error {
	var names []string
	for _, name := range sortedMapKeys(l.models) {
		if l.models[name].m.Config.Enabled {
			names = append(names, name)
		}
	}
	if err := l.findCycle(names); err != nil {
		l.fail(err)
		return nil
	}
	order := l.topoOrder(names)
	for _, name := range order {
		st := l.models[name]
		st.uses = nil
		body, err := st.tmpl.render(&modelHooks{l: l, st: st, final: true})
		if err != nil {
			l.fail(inFile(st.errFile, err))
			return nil
		}
		st.m.SQL = body
	}
	bodies := map[string]string{}
	for _, name := range order {
		bodies[name] = l.models[name].m.SQL
	}
	for _, name := range order {
		st := l.models[name]
		l.wire(st)
		var ctes []string
		for _, e := range l.ephemeralDeps(name, map[string]bool{}) {
			ctes = append(ctes, "__dbt__cte__"+e+" as (\n"+strings.TrimSpace(bodies[e])+"\n)")
		}
		if len(ctes) > 0 {
			st.m.SQL = injectCTEs(bodies[name], ctes)
		}
		if st.m.Config.Materialized != "ephemeral" {
			l.proj.Order = append(l.proj.Order, st.m)
		}
	}
	return nil
}

// depNames are the models a model refs, deduplicated in order.
func (l *loader) depNames(st *modelState) []string {
	var out []string
	for _, u := range st.uses {
		if u.model != "" && !slices.Contains(out, u.model) {
			out = append(out, u.model)
		}
	}
	return out
}

// findCycle reports the first ref cycle, at the ref that closes it.
func (l *loader) findCycle(names []string) error {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(string) []string
	visit = func(n string) []string {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range l.depNames(l.models[n]) {
			switch color[d] {
			case grey:
				i := slices.Index(stack, d)
				return append(slices.Clone(stack[i:]), d)
			case white:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return nil
	}
	for _, n := range names {
		if color[n] != white {
			continue
		}
		cycle := visit(n)
		if cycle == nil {
			continue
		}
		st := l.models[cycle[0]]
		at := pos{1, 0}
		for _, u := range st.uses {
			if u.model == cycle[1] {
				at = u.at
				break
			}
		}
		return inFile(st.errFile, errAt(at, ErrCycle, "ref cycle: %s", strings.Join(cycle, " -> ")))
	}
	return nil
}

// topoOrder sorts models inputs first, ties by name (Kahn's algorithm).
func (l *loader) topoOrder(names []string) []string {
	users := map[string][]string{}
	waiting := map[string]int{}
	for _, n := range names {
		deps := l.depNames(l.models[n])
		waiting[n] = len(deps)
		for _, d := range deps {
			users[d] = append(users[d], n)
		}
	}
	var ready, out []string
	for _, n := range names {
		if waiting[n] == 0 {
			ready = append(ready, n)
		}
	}
	for len(ready) > 0 {
		slices.Sort(ready)
		n := ready[0]
		ready = ready[1:]
		out = append(out, n)
		for _, u := range users[n] {
			if waiting[u]--; waiting[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return out
}

// wire sets Inputs and DependsOn from the final render's uses; an ephemeral
// dependency contributes its own inputs (already wired: order is topological).
func (l *loader) wire(st *modelState) {
	m := st.m
	m.Inputs, m.DependsOn = nil, l.depNames(st)
	add := func(r Relation) {
		for _, have := range m.Inputs {
			if have.Kind == r.Kind && have.Name == r.Name {
				return
			}
		}
		m.Inputs = append(m.Inputs, r)
	}
	for _, u := range st.uses {
		if u.src != nil {
			add(Relation{Kind: RelSource, Name: u.src.Key(), Topic: u.src.Topic, Table: sourceTable(u.src), Unwrap: u.src.Unwrap})
			continue
		}
		dep := l.models[u.model].m
		if dep.Config.Materialized == "ephemeral" {
			for _, r := range dep.Inputs {
				add(r)
			}
			continue
		}
		add(Relation{Kind: RelModel, Name: dep.Name, Topic: dep.OutputTopic, Table: "ref__" + dep.Name})
	}
}

// ephemeralDeps lists the ephemeral models a model inlines, dependencies first.
func (l *loader) ephemeralDeps(name string, seen map[string]bool) []string {
	var out []string
	for _, d := range l.depNames(l.models[name]) {
		if seen[d] || l.models[d].m.Config.Materialized != "ephemeral" {
			continue
		}
		seen[d] = true
		out = append(out, l.ephemeralDeps(d, seen)...)
		out = append(out, d)
	}
	return out
}

// injectCTEs puts CTEs in front of a query the way dbt does: after a
// leading WITH (and RECURSIVE) followed by a comma, or in a new WITH.
func injectCTEs(sql string, ctes []string) string {
	list := strings.Join(ctes, ", ")
	i := skipSQLSpace(sql, 0)
	if !keywordAt(sql, i, "with") {
		return "with " + list + "\n" + sql
	}
	j := i + len("with")
	if k := skipSQLSpace(sql, j); keywordAt(sql, k, "recursive") {
		j = k + len("recursive")
	}
	return sql[:j] + " " + list + "," + sql[j:]
}

// skipSQLSpace skips whitespace, -- comments and /* */ comments.
func skipSQLSpace(s string, i int) int {
	for i < len(s) {
		switch {
		case strings.IndexByte(spaceChars, s[i]) >= 0:
			i++
		case strings.HasPrefix(s[i:], "--"):
			k := strings.IndexByte(s[i:], '\n')
			if k < 0 {
				return len(s)
			}
			i += k + 1
		case strings.HasPrefix(s[i:], "/*"):
			k := strings.Index(s[i+2:], "*/")
			if k < 0 {
				return len(s)
			}
			i += k + 4
		default:
			return i
		}
	}
	return i
}

func keywordAt(s string, i int, kw string) bool {
	if len(s)-i < len(kw) || !strings.EqualFold(s[i:i+len(kw)], kw) {
		return false
	}
	return i+len(kw) == len(s) || !isNameChar(s[i+len(kw)])
}
