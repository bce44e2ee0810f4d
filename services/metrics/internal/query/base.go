package query

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// valueCol names the author's expression when it is not a bare column.
const valueCol = "riacho_value"

// refSQL is the qualified column a dimension reference reads.
func refSQL(ref dimRef) string {
	if ref.join < 0 {
		return q("f") + "." + q(ref.col.Name)
	}
	return q("j"+strconv.Itoa(ref.join)) + "." + q(ref.col.Name)
}

// baseSQL aggregates one base metric per period and dimensions: from the
// rollup when one was picked, else from the fact table.
func (g *gen) baseSQL(b *baseUse) string {
	if b.rollup != nil {
		return g.rollupSQL(b)
	}
	r, mi := g.r, b.mi
	name := mi.m.Name
	var sel, groups, where []string
	if r.grain != "all_time" {
		p := "CAST(date_trunc('" + r.grain + "', " + q("f") + "." + q(mi.ts.Name) + ") AS date)"
		sel, groups = append(sel, p+" AS "+q("p")), append(groups, p)
	}
	for i, dm := range r.dims {
		e := refSQL(dm.refs[name])
		sel, groups = append(sel, e+" AS "+dimCol(i)), append(groups, e)
	}
	sel = append(sel, g.aggregate(mi)+" AS "+q("m"))
	for _, f := range mi.filters {
		where = append(where, g.metricFilter(f))
	}
	for _, f := range r.filters {
		where = append(where, g.requestFilter(refSQL(f.refs[name]), f))
	}
	if mi.ts != nil {
		where = append(where, g.rangeConds(q("f")+"."+q(mi.ts.Name), mi.ts)...)
	}
	from := q(mi.fact.Name)
	if mi.value.sql != "" {
		from = "(SELECT *, (" + mi.value.sql + ") AS " + q(valueCol) + " FROM " + q(mi.fact.Name) + ")"
	}
	from += " AS " + q("f")
	joined := map[int]bool{}
	for _, ref := range usedRefs(r, b) {
		if ref.join >= 0 && !joined[ref.join] {
			joined[ref.join] = true
		}
	}
	for i, j := range mi.fact.Joins {
		if joined[i] {
			from += g.joinSQL(i, j)
		}
	}
	out := "SELECT " + strings.Join(sel, ", ") + " FROM " + from
	if len(where) > 0 {
		out += " WHERE " + strings.Join(where, " AND ")
	}
	if len(groups) > 0 {
		out += " GROUP BY " + strings.Join(groups, ", ")
	}
	return out
}

// joinSQL left-joins a dimension: by key; a type 2 dimension by the
// version valid at the as_of column, or the current one.
func (g *gen) joinSQL(i int, j warehouse.Join) string {
	alias := q("j" + strconv.Itoa(i))
	var key string
	if dt := g.dimTable(j.Dimension); dt != nil && len(dt.Key) == 1 {
		key = dt.Key[0]
	}
	on := alias + "." + q(key) + " = " + q("f") + "." + q(j.Column)
	if dt := g.dimTable(j.Dimension); dt != nil && dt.SCD == 2 {
		if j.AsOf != "" {
			at := "CAST(" + q("f") + "." + q(j.AsOf) + " AS " + sqlType(g.d, warehouse.Type{Base: "timestamp"}) + ")"
			on += " AND " + alias + "." + q("valid_from") + " <= " + at + " AND (" + alias + "." + q("valid_to") + " IS NULL OR " + at + " < " + alias + "." + q("valid_to") + ")"
		} else {
			on += " AND " + alias + "." + q("is_current")
		}
	}
	return " LEFT JOIN " + q(j.Dimension) + " AS " + alias + " ON " + on
}

func (g *gen) dimTable(name string) *warehouse.Table { return g.schema.Table(name) }

// aggregate renders a base metric's aggregate over the fact rows.
func (g *gen) aggregate(mi *metricInfo) string {
	var v string
	switch {
	case mi.value.star:
		return "count(*)"
	case mi.value.col != nil:
		v = q("f") + "." + q(mi.value.col.Name)
	default:
		v = g.cast(q("f")+"."+q(valueCol), double)
	}
	switch mi.m.CalculationMethod {
	case "count":
		return "count(" + v + ")"
	case "count_distinct":
		return "count(DISTINCT " + v + ")"
	case "sum":
		return g.cast("sum("+v+")", mi.typ)
	case "average":
		return g.cast("sum("+v+")", double) + " / " + g.cast("NULLIF(count("+v+"), 0)", double)
	case "median":
		return "percentile_cont(0.5) WITHIN GROUP (ORDER BY " + g.cast(v, double) + ")"
	}
	return mi.m.CalculationMethod + "(" + v + ")" // min, max
}

// metricFilter renders one of the metric's own filters.
func (g *gen) metricFilter(f metricFilter) string {
	col := refSQL(f.ref)
	lit := func(l literal) string {
		switch l.kind {
		case "bool":
			return strings.ToUpper(l.text)
		case "null":
			return "NULL"
		}
		return g.param(l.text, f.ref.col.Type)
	}
	switch f.op {
	case "in", "not in":
		vals := make([]string, len(f.lits))
		for i, l := range f.lits {
			vals[i] = lit(l)
		}
		return col + " " + strings.ToUpper(f.op) + " (" + strings.Join(vals, ", ") + ")"
	}
	return col + " " + strings.ToUpper(f.op) + " " + lit(f.lits[0])
}

// requestFilter renders a request filter on col.
func (g *gen) requestFilter(col string, f reqFilter) string {
	switch f.op {
	case "is null", "is not null":
		return col + " " + strings.ToUpper(f.op)
	case "in", "not in":
		vals := make([]string, len(f.vals))
		for i, v := range f.vals {
			vals[i] = g.param(v, f.typ)
		}
		return col + " " + strings.ToUpper(f.op) + " (" + strings.Join(vals, ", ") + ")"
	}
	return col + " " + strings.ToUpper(f.op) + " " + g.param(f.vals[0], f.typ)
}

// rangeConds bounds a timestamp column by [start, end). A date column
// compares as midnight UTC, so a bound is rounded up to the next date.
func (g *gen) rangeConds(col string, ts *warehouse.Column) []string {
	var out []string
	bound := func(t time.Time, op string) {
		if t.IsZero() {
			return
		}
		if ts.Type.Base == "date" {
			d := truncGrain("day", t)
			if !d.Equal(t) {
				d = d.AddDate(0, 0, 1)
			}
			out = append(out, col+" "+op+" "+g.param(d.Format(time.DateOnly), ts.Type))
			return
		}
		out = append(out, col+" "+op+" "+g.param(formatTS(ceilMicro(t)), ts.Type))
	}
	bound(g.r.start, ">=")
	bound(g.r.end, "<")
	return out
}

// rollupSQL reads a base metric from its rollup, re-aggregating when the
// rollup is finer than the request (additive methods only).
func (g *gen) rollupSQL(b *baseUse) string {
	r, ri, name := g.r, b.rollup, b.mi.m.Name
	col := func(ref dimRef) string {
		for i, d := range ri.dims {
			if d.key == ref.key {
				return q(ri.r.Dimensions[i])
			}
		}
		return "NULL" // unreachable: pickRollups checked every reference
	}
	reagg := ri.r.Grain != r.grain || len(ri.dims) != len(r.dims)
	var sel, groups, where []string
	if r.grain != "all_time" {
		p := q("period")
		if ri.r.Grain != r.grain {
			p = "CAST(date_trunc('" + r.grain + "', " + q("period") + ") AS date)"
		}
		sel, groups = append(sel, p+" AS "+q("p")), append(groups, p)
	}
	for i, dm := range r.dims {
		e := col(dm.refs[name])
		sel, groups = append(sel, e+" AS "+dimCol(i)), append(groups, e)
	}
	v := q("value")
	if reagg {
		switch b.mi.m.CalculationMethod {
		case "sum", "count":
			v = g.cast("sum("+v+")", b.mi.typ)
		default:
			v = b.mi.m.CalculationMethod + "(" + v + ")"
		}
	}
	sel = append(sel, v+" AS "+q("m"))
	for _, f := range r.filters {
		where = append(where, g.requestFilter(col(f.refs[name]), f))
	}
	date := warehouse.Type{Base: "date"}
	if !r.start.IsZero() {
		where = append(where, q("period")+" >= "+g.param(r.start.Format(time.DateOnly), date))
	}
	if !r.end.IsZero() {
		where = append(where, q("period")+" < "+g.param(r.end.Format(time.DateOnly), date))
	}
	out := "SELECT " + strings.Join(sel, ", ") + " FROM " + q(ri.r.Name)
	if len(where) > 0 {
		out += " WHERE " + strings.Join(where, " AND ")
	}
	if reagg && len(groups) > 0 {
		out += " GROUP BY " + strings.Join(groups, ", ")
	}
	return out
}

// nests reports whether periods of grain fine fall wholly inside periods of coarse.
func nests(fine, coarse string) bool {
	if fine == coarse || coarse == "all_time" {
		return true
	}
	switch fine {
	case "day":
		return true
	case "month":
		return coarse == "quarter" || coarse == "year"
	case "quarter":
		return coarse == "year"
	}
	return false
}

// pickRollups chooses, for each base metric, a fresh rollup that answers it exactly.
func (c *Compiler) pickRollups(r *resolved, opts CompileOptions) {
	for _, b := range r.bases {
		var best *rollupInfo
		for _, ri := range c.byMetric[b.mi.m.Name] {
			if !opts.FreshRollups[ri.r.Name] || !c.rollupServes(r, b, ri) {
				continue
			}
			exact := ri.r.Grain == r.grain && len(ri.dims) == len(r.dims)
			if best == nil || exact {
				best = ri
			}
			if exact {
				break
			}
		}
		b.rollup = best
	}
}

func (c *Compiler) rollupServes(r *resolved, b *baseUse, ri *rollupInfo) bool {
	name := b.mi.m.Name
	has := func(ref dimRef) bool {
		return slices.ContainsFunc(ri.dims, func(d dimRef) bool { return d.key == ref.key })
	}
	for _, dm := range r.dims {
		if !has(dm.refs[name]) {
			return false
		}
	}
	for _, f := range r.filters {
		if !has(f.refs[name]) {
			return false
		}
	}
	if !nests(ri.r.Grain, r.grain) {
		return false
	}
	additive := slices.Contains([]string{"sum", "count", "min", "max"}, b.mi.m.CalculationMethod)
	if (ri.r.Grain != r.grain || len(ri.dims) != len(r.dims)) && !additive {
		return false
	}
	for _, t := range []time.Time{r.start, r.end} {
		if !t.IsZero() && (ri.r.Grain == "all_time" || !truncGrain(ri.r.Grain, t).Equal(t)) {
			return false
		}
	}
	return true
}
