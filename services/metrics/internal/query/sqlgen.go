package query

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// gen renders one resolved request; args collects the bound parameters.
type gen struct {
	schema *warehouse.Schema
	d      store.Dialect
	r      *resolved
	args   []any
}

var double = warehouse.Type{Base: "double"}

// param binds v and casts it to t.
func (g *gen) param(v string, t warehouse.Type) string {
	g.args = append(g.args, v)
	p := "CAST($" + strconv.Itoa(len(g.args)) + " AS text)"
	if t.Base == "text" {
		return p
	}
	return "CAST(" + p + " AS " + sqlType(g.d, t) + ")"
}

func (g *gen) cast(expr string, t warehouse.Type) string {
	return "CAST(" + expr + " AS " + sqlType(g.d, t) + ")"
}

func dimCol(i int) string { return q("d" + strconv.Itoa(i)) }

// query renders the whole statement.
func (g *gen) query() string {
	r := g.r
	timed := r.grain != "all_time"
	var ctes []string
	for i, b := range r.bases {
		ctes = append(ctes, q("a"+strconv.Itoa(i))+" AS ("+g.baseSQL(b)+")")
	}
	var keys []string // p, d0, d1…
	if timed {
		keys = append(keys, q("p"))
	}
	var dimCols []string
	for i := range r.dims {
		dimCols = append(dimCols, dimCol(i))
	}
	keys = append(keys, dimCols...)
	union := func(cols string) string {
		parts := make([]string, len(r.bases))
		for i := range r.bases {
			parts[i] = "SELECT " + cols + " FROM " + q("a"+strconv.Itoa(i))
		}
		return strings.Join(parts, " UNION ALL ")
	}
	grid := ""
	if timed {
		lo, hi := "min("+q("p")+")", "max("+q("p")+")"
		if !r.start.IsZero() {
			lo = g.param(truncGrain(r.grain, r.start).Format(time.DateOnly), warehouse.Type{Base: "date"})
		}
		if !r.end.IsZero() {
			hi = g.param(truncGrain(r.grain, r.end.Add(-time.Nanosecond)).Format(time.DateOnly), warehouse.Type{Base: "date"})
		}
		b := "SELECT " + lo + " AS " + q("lo") + ", " + hi + " AS " + q("hi")
		if r.start.IsZero() || r.end.IsZero() {
			b += " FROM (" + union(q("p")) + ") AS " + q("t")
		}
		ctes = append(ctes, q("b")+" AS ("+b+")")
		step := map[string]string{"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months", "year": "1 year"}[r.grain]
		ctes = append(ctes, q("s")+" AS (SELECT CAST("+q("g")+" AS date) AS "+q("p")+" FROM (SELECT "+
			series(g.d, "CAST("+q("lo")+" AS timestamp)", "CAST("+q("hi")+" AS timestamp)", "INTERVAL '"+step+"'")+
			" AS "+q("g")+" FROM "+q("b")+") AS "+q("t")+")")
		grid = "SELECT " + q("s") + "." + q("p")
		if len(r.dims) > 0 {
			ctes = append(ctes, q("k")+" AS (SELECT DISTINCT "+strings.Join(dimCols, ", ")+" FROM ("+union(strings.Join(dimCols, ", "))+") AS "+q("t")+")")
			for _, dc := range dimCols {
				grid += ", " + q("k") + "." + dc
			}
			grid += " FROM " + q("s") + " CROSS JOIN " + q("k")
		} else {
			grid += " FROM " + q("s")
		}
	}
	// j: one row per period×dimensions, every base metric beside the others.
	var branches []string
	nullOf := func(i int) string { return g.cast("NULL", r.bases[i].mi.typ) }
	for i := range r.bases {
		cols := slices.Clone(keys)
		for k := range r.bases {
			if k == i {
				cols = append(cols, q("m")+" AS "+q(r.internal[r.bases[k].mi.m.Name]))
			} else {
				cols = append(cols, nullOf(k)+" AS "+q(r.internal[r.bases[k].mi.m.Name]))
			}
		}
		branches = append(branches, "SELECT "+strings.Join(cols, ", ")+" FROM "+q("a"+strconv.Itoa(i)))
	}
	if grid != "" {
		cols := []string{}
		for k := range r.bases {
			cols = append(cols, nullOf(k))
		}
		branches = append(branches, "SELECT * FROM ("+grid+") AS "+q("gr")+" CROSS JOIN (SELECT "+strings.Join(cols, ", ")+") AS "+q("n"))
	}
	jsel := slices.Clone(keys)
	for _, b := range r.bases {
		m := q(r.internal[b.mi.m.Name])
		jsel = append(jsel, "max("+m+") AS "+m)
	}
	j := "SELECT " + strings.Join(jsel, ", ") + " FROM (" + strings.Join(branches, " UNION ALL ") + ") AS " + q("t")
	if len(keys) > 0 {
		j += " GROUP BY " + strings.Join(keys, ", ")
	}
	ctes = append(ctes, q("j")+" AS ("+j+")")
	// x: empty counts are 0; derived metrics.
	xsel := slices.Clone(keys)
	for _, b := range r.bases {
		xsel = append(xsel, g.baseRef(b)+" AS "+q(r.internal[b.mi.m.Name]))
	}
	for _, n := range r.derived {
		xsel = append(xsel, g.cast("("+g.expand(n)+")", double)+" AS "+q(r.internal[n]))
	}
	ctes = append(ctes, q("x")+" AS (SELECT "+strings.Join(xsel, ", ")+" FROM "+q("j")+")")
	src := "x"
	if len(r.secs) > 0 {
		ysel := []string{"*"}
		for i, s := range r.secs {
			ysel = append(ysel, g.window(s, dimCols)+" AS "+q("s"+strconv.Itoa(i)))
		}
		ctes = append(ctes, q("y")+" AS (SELECT "+strings.Join(ysel, ", ")+" FROM "+q("x")+")")
		src = "y"
	}
	// The answer.
	var sel []string
	exprs := map[string]string{} // result column → qualified source column
	types := map[string]warehouse.Type{}
	add := func(col Column, internal string, t warehouse.Type) {
		e := q(src) + "." + q(internal)
		exprs[col.Name], types[col.Name] = e, t
		if t.Base == "numeric" {
			e = "CAST(" + g.cast(e, t) + " AS text)"
		}
		sel = append(sel, e+" AS "+q(sqlName(col, r)))
	}
	ci := 0
	if timed {
		add(r.columns[0], "p", warehouse.Type{Base: "date"})
		ci++
	}
	for i, dm := range r.dims {
		add(r.columns[ci], "d"+strconv.Itoa(i), dm.typ)
		ci++
	}
	for _, m := range r.metrics {
		add(r.columns[ci], r.internal[m], g.r.typeOfMetric(m))
		ci++
	}
	for i, s := range r.secs {
		add(r.columns[ci], "s"+strconv.Itoa(i), s.typ)
		ci++
	}
	var order []string
	used := map[string]bool{}
	for _, o := range r.order {
		dir := " ASC NULLS LAST"
		if o.Desc {
			dir = " DESC NULLS LAST"
		}
		order = append(order, orderKey(g.d, exprs[o.Field], types[o.Field])+dir)
		used[o.Field] = true
	}
	for i, col := range r.columns {
		if (col.Role == "period" || col.Role == "dimension") && !used[col.Name] {
			order = append(order, orderKey(g.d, exprs[r.columns[i].Name], types[col.Name])+" ASC NULLS LAST")
		}
	}
	out := "WITH " + strings.Join(ctes, ",\n") + "\nSELECT " + strings.Join(sel, ", ") + " FROM " + q(src)
	if len(order) > 0 {
		out += " ORDER BY " + strings.Join(order, ", ")
	}
	if r.limit > 0 {
		out += " LIMIT " + strconv.Itoa(r.limit)
	}
	return out
}

// sqlName is the column's name in the SQL text: built from metric and
// schema names only (a caller's alias never reaches the SQL).
func sqlName(col Column, r *resolved) string {
	if col.Role != "secondary" {
		return col.Name
	}
	for _, s := range r.secs {
		if s.name == col.Name {
			return defaultAlias(s.s, s.metric, r.grain)
		}
	}
	return col.Name
}

func (r *resolved) typeOfMetric(m string) warehouse.Type {
	for _, b := range r.bases {
		if b.mi.m.Name == m {
			return b.mi.typ
		}
	}
	return double
}

// baseRef is a base metric's value in x: counts of empty periods are 0.
func (g *gen) baseRef(b *baseUse) string {
	m := q("j") + "." + q(g.r.internal[b.mi.m.Name])
	if b.mi.m.CalculationMethod == "count" || b.mi.m.CalculationMethod == "count_distinct" {
		return "coalesce(" + m + ", 0)"
	}
	return m
}

// expand renders a derived metric's expression over the base metrics in j.
func (g *gen) expand(name string) string {
	var mi *metricInfo
	for _, b := range g.r.bases {
		if b.mi.m.Name == name {
			return g.cast(g.baseRef(b), double)
		}
	}
	mi = g.r.derivedInfo(name)
	var out strings.Builder
	scanExpr(mi.m.Expression, func(tok string, ident bool) {
		if ident && slices.Contains(mi.deps, tok) {
			if g.r.derivedInfo(tok) != nil {
				out.WriteString(g.cast("("+g.expand(tok)+")", double))
			} else {
				out.WriteString(g.expand(tok))
			}
			return
		}
		out.WriteString(tok)
	})
	return out.String()
}

// window renders one secondary calculation over x.
func (g *gen) window(s secCol, dimCols []string) string {
	v := q(g.r.internal[s.metric])
	part := ""
	if len(dimCols) > 0 {
		part = "PARTITION BY " + strings.Join(dimCols, ", ") + " "
	}
	over := "OVER (" + part + "ORDER BY " + q("p") + ")"
	c := s.s
	switch c.Calculation {
	case "prior":
		return fmt.Sprintf("lag(%s, %d) %s", v, c.Interval, over)
	case "period_over_period":
		prev := fmt.Sprintf("lag(%s, %d) %s", v, c.Interval, over)
		if c.ComparisonStrategy == "ratio" {
			return g.cast(v, double) + " / NULLIF(" + g.cast(prev, double) + ", 0)"
		}
		return g.cast(v+" - "+prev, s.typ)
	case "rolling":
		frame := "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
		if c.Interval > 0 {
			frame = fmt.Sprintf("ROWS BETWEEN %d PRECEDING AND CURRENT ROW", c.Interval-1)
		}
		return g.windowAgg(c.Aggregate, v, s.typ, "OVER ("+part+"ORDER BY "+q("p")+" "+frame+")")
	}
	// period_to_date
	part = "PARTITION BY "
	for _, dc := range dimCols {
		part += dc + ", "
	}
	part += "CAST(date_trunc('" + c.Period + "', " + q("p") + ") AS date) "
	return g.windowAgg(c.Aggregate, v, s.typ, "OVER ("+part+"ORDER BY "+q("p")+" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)")
}

func (g *gen) windowAgg(agg, v string, t warehouse.Type, over string) string {
	switch agg {
	case "sum":
		return g.cast("sum("+v+") "+over, t)
	case "average":
		return g.cast("sum("+v+") "+over, double) + " / " + g.cast("NULLIF(count("+v+") "+over+", 0)", double)
	case "count":
		return "count(" + v + ") " + over
	}
	return agg + "(" + v + ") " + over // min, max
}

func (r *resolved) derivedInfo(name string) *metricInfo {
	if !slices.Contains(r.derived, name) {
		return nil
	}
	return r.derivedMI[name]
}

// truncGrain is date_trunc in Go, in UTC.
func truncGrain(grain string, t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch grain {
	case "week":
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "month":
		return d.AddDate(0, 0, 1-d.Day())
	case "quarter":
		return time.Date(d.Year(), (d.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	case "year":
		return time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}
