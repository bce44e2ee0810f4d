package query

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// Request asks for metrics at a grain, grouped by dimensions.
type Request struct {
	Metrics    []string
	Grain      string   // day|week|month|quarter|year|all_time; "" = all_time
	Dimensions []string // metric dimensions; joined-dimension columns as declared (see warehouse.Join)
	Filters    []Filter // ANDed with the metrics' own filters
	// Start (inclusive) and End (exclusive) bound the metric timestamp; zero = open.
	Start, End time.Time
	Order      []Order // default: period, then dimensions, ascending
	Limit      int     // 0 = no limit
	Secondary  []Secondary
}

// Filter is a condition on a dimension. Operators: =, !=, <>, <, <=, >, >=,
// in, not in, like, is null, is not null. Values are bound as parameters,
// cast to the column's type (in/not in take one or more, is [not] null none,
// the rest exactly one).
type Filter struct {
	Field, Operator string
	Values          []string
}

// Order sorts by a result column: "period", a dimension, a metric or a secondary calculation's name.
type Order struct {
	Field string
	Desc  bool
}

// Secondary is a dbt_metrics secondary calculation.
type Secondary struct {
	Calculation        string // period_over_period|rolling|period_to_date|prior
	ComparisonStrategy string // period_over_period: ratio|difference
	Interval           int    // period_over_period, prior: periods back (default 1); rolling: window size (0 = unbounded)
	Aggregate          string // rolling, period_to_date: sum|average|min|max|count
	Period             string // period_to_date: the grain it restarts at (coarser than the request's)
	Alias              string // column name; default like dbt_metrics (see the package doc)
	Metrics            []string
}

// Column describes one column of the answer.
type Column struct {
	Name string
	Role string // period|dimension|metric|secondary
	Type string // warehouse.yml spelling: date, text, bigint, double, numeric(38,2), ...
}

// Plan is a compiled request: the SQL, its arguments and what it reads.
type Plan struct {
	SQL     string
	Args    []any
	Columns []Column
	Metrics []string // the requested metrics, then the ones derived metrics depend on
	Models  []string // warehouse tables read (facts and joined dimensions), for freshness
	Rollup  string   // rollup tables used, comma-separated; "" when none
}

// CompileOptions tune compilation.
type CompileOptions struct {
	// FreshRollups lists rollups rebuilt since the last load: only these are used.
	FreshRollups map[string]bool
}

// reqDim is a requested dimension.
type reqDim struct {
	name string
	typ  warehouse.Type
	refs map[string]dimRef // by base metric
}

// reqFilter is a validated request filter.
type reqFilter struct {
	op   string
	vals []string
	typ  warehouse.Type
	refs map[string]dimRef // by base metric
	name string
}

// secCol is one secondary calculation column.
type secCol struct {
	name   string // as the caller sees it
	metric string
	s      Secondary
	typ    warehouse.Type
}

// baseUse is a base metric in a query and where it is read from.
type baseUse struct {
	mi     *metricInfo
	rollup *rollupInfo
}

// resolved is a request checked against the compiler's metrics.
type resolved struct {
	grain     string
	metrics   []string // requested
	all       []string // requested, then dependencies
	internal  map[string]string
	bases     []*baseUse
	derived   []string // derived metrics to compute, dependencies first
	derivedMI map[string]*metricInfo
	dims      []reqDim
	filters   []reqFilter
	start     time.Time
	end       time.Time
	secs      []secCol
	columns   []Column
	order     []Order
	limit     int
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// Compile checks req and renders its SQL in dialect d.
func (c *Compiler) Compile(req Request, d store.Dialect, opts CompileOptions) (*Plan, error) {
	if d != store.Postgres && d != store.DuckDB {
		return nil, invalid("unknown dialect %q", d)
	}
	r, err := c.resolve(req)
	if err != nil {
		return nil, err
	}
	c.pickRollups(r, opts)
	g := &gen{schema: c.schema, d: d, r: r}
	p := &Plan{SQL: g.query(), Args: g.args, Columns: r.columns, Metrics: r.all}
	models := map[string]bool{}
	var rollups []string
	for _, b := range r.bases {
		models[b.mi.fact.Name] = true
		for _, ref := range usedRefs(r, b) {
			if ref.join >= 0 {
				models[b.mi.fact.Joins[ref.join].Dimension] = true
			}
		}
		if b.rollup != nil && !slices.Contains(rollups, b.rollup.r.Name) {
			rollups = append(rollups, b.rollup.r.Name)
		}
	}
	for m := range models {
		p.Models = append(p.Models, m)
	}
	sort.Strings(p.Models)
	p.Rollup = strings.Join(rollups, ",")
	return p, nil
}

func (c *Compiler) resolve(req Request) (*resolved, error) {
	r := &resolved{grain: req.Grain, internal: map[string]string{}, limit: req.Limit, derivedMI: map[string]*metricInfo{}}
	if r.grain == "" {
		r.grain = "all_time"
	}
	if !slices.Contains(grains, r.grain) {
		return nil, invalid("unknown grain %q (grains: %s)", req.Grain, strings.Join(grains, ", "))
	}
	if len(req.Metrics) == 0 {
		return nil, invalid("no metrics requested")
	}
	if req.Limit < 0 {
		return nil, invalid("limit %d is negative", req.Limit)
	}
	for _, name := range req.Metrics {
		if c.byName[name] == nil {
			return nil, fmt.Errorf("%w %q", ErrUnknownMetric, name)
		}
		if slices.Contains(r.metrics, name) {
			return nil, invalid("metric %s requested twice", name)
		}
		r.metrics = append(r.metrics, name)
	}
	if err := c.collect(r); err != nil {
		return nil, err
	}
	if err := c.resolveDims(r, req.Dimensions); err != nil {
		return nil, err
	}
	if err := c.resolveFilters(r, req.Filters); err != nil {
		return nil, err
	}
	if err := r.resolveRange(req.Start, req.End); err != nil {
		return nil, err
	}
	if r.grain != "all_time" {
		r.columns = append(r.columns, Column{Name: "period", Role: "period", Type: "date"})
	}
	for _, dm := range r.dims {
		r.columns = append(r.columns, Column{Name: dm.name, Role: "dimension", Type: dm.typ.String()})
	}
	for _, m := range r.metrics {
		r.columns = append(r.columns, Column{Name: m, Role: "metric", Type: c.typeOf(m).String()})
	}
	if err := c.resolveSecondary(r, req.Secondary); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, col := range r.columns {
		if seen[col.Name] {
			return nil, invalid("two result columns are named %q; give secondary calculations distinct aliases", col.Name)
		}
		seen[col.Name] = true
	}
	for _, o := range req.Order {
		if !seen[o.Field] {
			return nil, invalid("cannot order by %q: not a result column (columns: %s)", o.Field, columnList(r.columns))
		}
		for _, prev := range r.order {
			if prev.Field == o.Field {
				return nil, invalid("order lists %q twice", o.Field)
			}
		}
		r.order = append(r.order, o)
	}
	return r, nil
}

func columnList(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// typeOf is the type of a metric's value in the answer.
func (c *Compiler) typeOf(name string) warehouse.Type {
	mi := c.byName[name]
	if mi.derived {
		return warehouse.Type{Base: "double"}
	}
	return mi.typ
}

// collect finds the base and derived metrics a request reads and checks the grain against them.
func (c *Compiler) collect(r *resolved) error {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		mi := c.byName[n]
		for _, dep := range mi.deps {
			visit(dep)
		}
		if mi.derived {
			r.derived = append(r.derived, n)
			r.derivedMI[n] = mi
		} else {
			r.bases = append(r.bases, &baseUse{mi: mi})
		}
	}
	for _, m := range r.metrics {
		visit(m)
	}
	r.all = slices.Clone(r.metrics)
	var deps []string
	for n := range seen {
		if !slices.Contains(r.metrics, n) {
			deps = append(deps, n)
		}
	}
	sort.Strings(deps)
	r.all = append(r.all, deps...)
	for i, b := range r.bases {
		r.internal[b.mi.m.Name] = fmt.Sprintf("m%d", i)
	}
	for i, n := range r.derived {
		r.internal[n] = fmt.Sprintf("m%d", len(r.bases)+i)
	}
	for _, n := range r.all {
		mi := c.byName[n]
		if r.grain == "all_time" {
			continue
		}
		if !mi.derived && mi.ts == nil {
			return invalid("metric %s has no timestamp; only grain all_time applies", n)
		}
		if len(mi.m.TimeGrains) > 0 && !slices.Contains(mi.m.TimeGrains, r.grain) {
			return invalid("grain %s is not in the time_grains of metric %s (%s)", r.grain, n, strings.Join(mi.m.TimeGrains, ", "))
		}
	}
	return nil
}

// resolveDims checks every requested dimension against every metric read.
func (c *Compiler) resolveDims(r *resolved, names []string) error {
	for _, name := range names {
		if name == "period" {
			return invalid("dimension name period is reserved for the time grain")
		}
		dm := reqDim{name: name, refs: map[string]dimRef{}}
		if err := c.refsFor(r, name, dm.refs, &dm.typ); err != nil {
			return err
		}
		for _, prev := range r.dims {
			if prev.name == name || sameRefs(prev.refs, dm.refs) {
				return invalid("dimension %s requested twice", name)
			}
		}
		if slices.Contains(r.all, name) {
			return invalid("dimension %s has the name of a metric in the request", name)
		}
		r.dims = append(r.dims, dm)
	}
	return nil
}

func sameRefs(a, b map[string]dimRef) bool {
	for k, v := range a {
		if b[k].key != v.key {
			return false
		}
	}
	return true
}

// refsFor resolves a dimension for every base metric (and checks derived metrics declaring dimensions).
func (c *Compiler) refsFor(r *resolved, name string, refs map[string]dimRef, typ *warehouse.Type) error {
	for _, n := range r.all {
		mi := c.byName[n]
		if mi.derived && len(mi.m.Dimensions) > 0 && !c.derivedHasDim(mi, name) {
			return fmt.Errorf("%w %q for metric %s; its dimensions: %s", ErrUnknownDimension, name, n, dimList(mi.m.Dimensions))
		}
	}
	first := ""
	for _, b := range r.bases {
		ref, err := c.matchDim(b.mi, name)
		if err != nil {
			return err
		}
		if first == "" {
			first, *typ = b.mi.m.Name, ref.col.Type
		} else if ref.col.Type != *typ {
			return invalid("dimension %s is %s for metric %s but %s for metric %s", name, *typ, first, ref.col.Type, b.mi.m.Name)
		}
		refs[b.mi.m.Name] = ref
	}
	return nil
}

// derivedHasDim reports whether a derived metric declares name, in either
// spelling of a joined column (they resolve alike on every base metric).
func (c *Compiler) derivedHasDim(mi *metricInfo, name string) bool {
	if slices.Contains(mi.m.Dimensions, name) {
		return true
	}
	for _, d := range mi.m.Dimensions {
		same := true
		for _, b := range mi.bases {
			x, errX := c.matchDim(c.byName[b], name)
			y, errY := c.matchDim(c.byName[b], d)
			if errX != nil || errY != nil || x.key != y.key {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

var requestOps = []string{"=", "!=", "<>", "<", "<=", ">", ">=", "in", "not in", "like", "is null", "is not null"}

func (c *Compiler) resolveFilters(r *resolved, filters []Filter) error {
	for i, f := range filters {
		rf := reqFilter{op: normOp(f.Operator), refs: map[string]dimRef{}, name: f.Field}
		if !slices.Contains(requestOps, rf.op) {
			return invalid("filter %d on %q: unknown operator %q (operators: %s)", i+1, f.Field, f.Operator, strings.Join(requestOps, ", "))
		}
		if rf.op == "!=" {
			rf.op = "<>"
		}
		if err := c.refsFor(r, f.Field, rf.refs, &rf.typ); err != nil {
			return fmt.Errorf("filter %d: %w", i+1, err)
		}
		switch {
		case rf.op == "is null" || rf.op == "is not null":
			if len(f.Values) != 0 {
				return invalid("filter %d on %s: %s takes no values", i+1, f.Field, rf.op)
			}
		case rf.op == "in" || rf.op == "not in":
			if len(f.Values) == 0 || len(f.Values) > 1000 {
				return invalid("filter %d on %s: %s takes 1 to 1000 values, got %d", i+1, f.Field, rf.op, len(f.Values))
			}
		case len(f.Values) != 1:
			return invalid("filter %d on %s: %s takes one value, got %d", i+1, f.Field, rf.op, len(f.Values))
		}
		if rf.op == "like" && rf.typ.Base != "text" {
			return invalid("filter %d: like needs a text dimension; %s is %s", i+1, f.Field, rf.typ)
		}
		for _, v := range f.Values {
			cv, err := checkValue(v, rf.typ)
			if err != nil {
				return invalid("filter %d on %s (%s): %v", i+1, f.Field, rf.typ, err)
			}
			rf.vals = append(rf.vals, cv)
		}
		r.filters = append(r.filters, rf)
	}
	return nil
}

func (r *resolved) resolveRange(start, end time.Time) error {
	if start.IsZero() && end.IsZero() {
		return nil
	}
	for _, b := range r.bases {
		if b.mi.ts == nil {
			return invalid("metric %s has no timestamp; start and end do not apply", b.mi.m.Name)
		}
	}
	if !start.IsZero() && !end.IsZero() && !start.Before(end) {
		return invalid("start %s is not before end %s", formatTS(start), formatTS(end))
	}
	r.start, r.end = start.UTC(), end.UTC()
	return nil
}

// usedRefs lists the columns a base metric's query reads besides its value and timestamp.
func usedRefs(r *resolved, b *baseUse) []dimRef {
	var out []dimRef
	for _, dm := range r.dims {
		out = append(out, dm.refs[b.mi.m.Name])
	}
	for _, f := range r.filters {
		out = append(out, f.refs[b.mi.m.Name])
	}
	for _, f := range b.mi.filters {
		out = append(out, f.ref)
	}
	return out
}
