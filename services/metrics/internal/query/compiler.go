package query

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// Errors callers test for; each is wrapped with a message an API client can act on.
var (
	ErrUnknownMetric    = errors.New("unknown metric")
	ErrUnknownDimension = errors.New("unknown dimension")
	ErrInvalidRequest   = errors.New("invalid request")
)

// Compiler turns requests into SQL for one set of metric definitions and one
// warehouse schema. It is immutable and safe for concurrent use.
type Compiler struct {
	schema   *warehouse.Schema
	metrics  []metricdef.Metric
	byName   map[string]*metricInfo
	rollups  map[string]*rollupInfo
	byMetric map[string][]*rollupInfo
}

// metricInfo is a metric resolved against the schema.
type metricInfo struct {
	m       metricdef.Metric
	derived bool
	deps    []string // derived: direct dependencies
	bases   []string // base metrics it reads (itself for a base metric), sorted
	// Base metrics only.
	fact    *warehouse.Table
	ts      *warehouse.Column
	value   valueExpr
	typ     warehouse.Type // the aggregate's type
	dims    map[string]dimRef
	filters []metricFilter
}

// valueExpr is what a base metric aggregates.
type valueExpr struct {
	star bool              // count(*)
	col  *warehouse.Column // a bare fact column
	sql  string            // otherwise: the author's expression (double precision)
}

// dimRef is a column a dimension or filter reads: on the fact, or on a joined dimension.
type dimRef struct {
	join int // -1: the fact table; else an index into fact.Joins
	col  *warehouse.Column
	key  string // identity, e.g. "f.customer_segment" or "j0.region"
}

// metricFilter is one of a metric's own filters.
type metricFilter struct {
	ref  dimRef
	op   string
	lits []literal
}

// literal is a SQL literal from a metric file: bound as a parameter unless bool or null.
type literal struct {
	kind string // value|bool|null
	text string
}

// rollupInfo is a declared rollup resolved against its metric.
type rollupInfo struct {
	r    warehouse.Rollup
	dims []dimRef
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// NewCompiler checks metrics against schema and returns a compiler for the
// enabled ones. Every problem is reported (joined), each naming the metric's
// file:line and field, wrapping metricdef.ErrInvalid.
func NewCompiler(metrics []metricdef.Metric, schema *warehouse.Schema) (*Compiler, error) {
	if schema == nil {
		schema = &warehouse.Schema{}
	}
	c := &Compiler{schema: schema, byName: map[string]*metricInfo{}, rollups: map[string]*rollupInfo{},
		byMetric: map[string][]*rollupInfo{}}
	var errs []error
	fail := func(m metricdef.Metric, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: metric %s: %s: %s: %w", m.File, m.Line, m.Name, field,
			fmt.Sprintf(format, args...), metricdef.ErrInvalid))
	}
	known := map[string]bool{}
	for _, m := range metrics {
		if !m.Enabled {
			continue
		}
		if c.byName[m.Name] != nil {
			fail(m, "name", "duplicate metric")
			continue
		}
		c.metrics = append(c.metrics, m)
		c.byName[m.Name] = &metricInfo{m: m, derived: m.CalculationMethod == "derived"}
		known[m.Name] = true
	}
	sort.Slice(c.metrics, func(i, j int) bool { return c.metrics[i].Name < c.metrics[j].Name })
	disabled := map[string]bool{}
	for _, m := range metrics {
		if !m.Enabled {
			disabled[m.Name] = true
		}
	}
	for _, m := range c.metrics {
		mi := c.byName[m.Name]
		if m.Window != nil {
			fail(m, "window", "metric windows are not supported; use a rolling secondary calculation")
		}
		for _, g := range m.TimeGrains {
			if !slices.Contains(grains, g) {
				fail(m, "time_grains", "unknown grain %q", g)
			}
		}
		if len(m.TimeGrains) > 0 && m.Timestamp == "" {
			fail(m, "time_grains", "needs a timestamp")
		}
		if mi.derived {
			mi.deps = metricdef.DependsOn(m, known)
			for _, id := range exprIdents(m.Expression) {
				if disabled[id] && !known[id] {
					fail(m, "expression", "depends on disabled metric %s", id)
				}
			}
			if len(mi.deps) == 0 {
				fail(m, "expression", "%q references no known metric", m.Expression)
			}
			continue
		}
		c.resolveBase(mi, func(field, format string, args ...any) { fail(m, field, format, args...) })
	}
	// Derived metrics: acyclic, and their base metrics.
	for _, m := range c.metrics {
		mi := c.byName[m.Name]
		if !mi.derived || len(mi.deps) == 0 {
			continue
		}
		if cycle := c.findCycle(m.Name, nil); cycle != nil {
			fail(m, "expression", "circular dependency %s", strings.Join(cycle, " -> "))
			continue
		}
		mi.bases = c.basesOf(m.Name)
		for _, d := range m.Dimensions {
			for _, b := range mi.bases {
				if _, err := c.matchDim(c.byName[b], d); err != nil {
					fail(m, "dimensions", "%s is not a dimension of %s, which it depends on", d, b)
				}
			}
		}
	}
	for _, r := range schema.Rollups {
		if err := c.addRollup(r); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: rollup %s: %w: %w", r.File, r.Line, r.Name, err, metricdef.ErrInvalid))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Metrics returns the enabled metric definitions, sorted by name.
func (c *Compiler) Metrics() []metricdef.Metric { return slices.Clone(c.metrics) }

var grains = []string{"day", "week", "month", "quarter", "year", "all_time"}

// resolveBase checks a base metric's model, timestamp, expression, dimensions and filters.
func (c *Compiler) resolveBase(mi *metricInfo, fail func(field, format string, args ...any)) {
	m := mi.m
	mi.bases = []string{m.Name}
	t := c.schema.Table(m.Model)
	switch {
	case t == nil:
		fail("model", "ref('%s') names no warehouse table (tables: %s)", m.Model, tableNames(c.schema))
		return
	case t.Kind != warehouse.Fact:
		fail("model", "ref('%s') is a %s table; metrics read fact tables", m.Model, t.Kind)
		return
	case !identRe.MatchString(t.Name):
		fail("model", "table name %q is not a plain identifier", t.Name)
		return
	}
	mi.fact = t
	for _, col := range t.Columns {
		if !identRe.MatchString(col.Name) {
			fail("model", "column %s.%q is not a plain identifier", t.Name, col.Name)
			return
		}
	}
	if m.Timestamp != "" {
		col := t.Column(m.Timestamp)
		switch {
		case col == nil:
			fail("timestamp", "%s is not a column of %s (columns: %s)", m.Timestamp, t.Name, columnNames(t))
		case col.Type.Base != "date" && col.Type.Base != "timestamp":
			fail("timestamp", "%s is %s; want date or timestamp", m.Timestamp, col.Type)
		default:
			mi.ts = col
		}
	}
	expr := strings.TrimSpace(m.Expression)
	switch {
	case expr == "*":
		if m.CalculationMethod != "count" {
			fail("expression", "* is only for count")
		}
		mi.value.star = true
	case identRe.MatchString(expr):
		col := t.Column(expr)
		if col == nil {
			fail("expression", "%s is not a column of %s (columns: %s)", expr, t.Name, columnNames(t))
			return
		}
		mi.value.col = col
	default:
		mi.value.sql = expr
	}
	mi.typ = resultType(m.CalculationMethod, mi.value)
	if err := checkMethodType(m.CalculationMethod, mi.value); err != nil {
		fail("calculation_method", "%v", err)
	}
	mi.dims = map[string]dimRef{}
	for _, d := range m.Dimensions {
		ref, err := c.resolveColumn(t, d)
		if err != nil {
			fail("dimensions", "%v", err)
			continue
		}
		mi.dims[d] = ref
	}
	for _, f := range m.Filters {
		mf, err := c.resolveMetricFilter(t, f)
		if err != nil {
			fail("filters", "%v", err)
			continue
		}
		mi.filters = append(mi.filters, mf)
	}
}

// resultType is the SQL type of a base metric's aggregate.
func resultType(method string, v valueExpr) warehouse.Type {
	switch method {
	case "count", "count_distinct":
		return warehouse.Type{Base: "bigint"}
	case "average", "median":
		return warehouse.Type{Base: "double"}
	}
	if v.col == nil {
		return warehouse.Type{Base: "double"}
	}
	t := v.col.Type
	if method == "sum" {
		switch t.Base {
		case "integer", "bigint":
			return warehouse.Type{Base: "bigint"}
		case "numeric":
			return warehouse.Type{Base: "numeric", Precision: 38, Scale: t.Scale}
		}
	}
	return t
}

func checkMethodType(method string, v valueExpr) error {
	if v.col == nil {
		return nil
	}
	b := v.col.Type.Base
	numeric := b == "integer" || b == "bigint" || b == "double" || b == "numeric"
	switch method {
	case "sum", "average", "median":
		if !numeric {
			return fmt.Errorf("%s needs a numeric expression; %s is %s", method, v.col.Name, v.col.Type)
		}
	case "min", "max":
		if b == "boolean" {
			return fmt.Errorf("%s of boolean column %s is not portable; use count with a filter", method, v.col.Name)
		}
	}
	return nil
}

// resolveColumn finds a fact column or a joined dimension column, named
// "<dimension>.<column>" or by the bare column name when no fact column has it.
func (c *Compiler) resolveColumn(fact *warehouse.Table, name string) (dimRef, error) {
	if col := fact.Column(name); col != nil {
		return dimRef{join: -1, col: col, key: "f." + col.Name}, nil
	}
	dimTable, colName, qualified := strings.Cut(name, ".")
	if !qualified {
		dimTable, colName = "", name
	}
	var found []dimRef
	for i, j := range fact.Joins {
		if qualified && j.Dimension != dimTable {
			continue
		}
		dt := c.schema.Table(j.Dimension)
		if dt == nil || !identRe.MatchString(dt.Name) {
			continue
		}
		if col := dt.Column(colName); col != nil && identRe.MatchString(col.Name) {
			found = append(found, dimRef{join: i, col: col, key: fmt.Sprintf("j%d.%s", i, col.Name)})
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return dimRef{}, fmt.Errorf("%s is not a column of %s or of a dimension it joins (columns: %s)", name, fact.Name, columnNames(fact))
	}
	return dimRef{}, fmt.Errorf("%s is ambiguous: %d joined dimensions have it; name it <dimension>.<column>", name, len(found))
}

// matchDim resolves a requested dimension against a base metric's declared ones.
func (c *Compiler) matchDim(mi *metricInfo, name string) (dimRef, error) {
	if ref, ok := mi.dims[name]; ok {
		return ref, nil
	}
	if mi.fact != nil {
		if ref, err := c.resolveColumn(mi.fact, name); err == nil {
			for _, d := range mi.dims {
				if d.key == ref.key {
					return ref, nil
				}
			}
		}
	}
	return dimRef{}, fmt.Errorf("%w %q for metric %s; its dimensions: %s", ErrUnknownDimension, name, mi.m.Name, dimList(mi.m.Dimensions))
}

func dimList(d []string) string {
	if len(d) == 0 {
		return "(none)"
	}
	return strings.Join(d, ", ")
}

func (c *Compiler) findCycle(name string, path []string) []string {
	if i := slices.Index(path, name); i >= 0 {
		return append(slices.Clone(path[i:]), name)
	}
	mi := c.byName[name]
	if mi == nil || !mi.derived {
		return nil
	}
	path = append(path, name)
	for _, d := range mi.deps {
		if cyc := c.findCycle(d, path); cyc != nil {
			return cyc
		}
	}
	return nil
}

// basesOf returns the base metrics a metric reads, sorted.
func (c *Compiler) basesOf(name string) []string {
	set := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		mi := c.byName[n]
		if !mi.derived {
			set[n] = true
			return
		}
		for _, d := range mi.deps {
			walk(d)
		}
	}
	walk(name)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// addRollup checks a declared rollup against its metric.
func (c *Compiler) addRollup(r warehouse.Rollup) error {
	mi := c.byName[r.Metric]
	switch {
	case !identRe.MatchString(r.Name):
		return fmt.Errorf("name %q is not a plain identifier", r.Name)
	case mi == nil:
		return fmt.Errorf("metric: unknown or disabled metric %q", r.Metric)
	case mi.derived:
		return fmt.Errorf("metric: %s is derived; keep rollups of its base metrics", r.Metric)
	case !slices.Contains(grains, r.Grain):
		return fmt.Errorf("grain: unknown grain %q", r.Grain)
	case r.Grain != "all_time" && mi.ts == nil:
		return fmt.Errorf("grain: metric %s has no timestamp", r.Metric)
	case r.Grain != "all_time" && len(mi.m.TimeGrains) > 0 && !slices.Contains(mi.m.TimeGrains, r.Grain):
		return fmt.Errorf("grain: %s is not in the time_grains of %s (%s)", r.Grain, r.Metric, strings.Join(mi.m.TimeGrains, ", "))
	}
	ri := &rollupInfo{r: r}
	seen := map[string]bool{}
	for _, d := range r.Dimensions {
		ref, err := c.matchDim(mi, d)
		if err != nil {
			return fmt.Errorf("dimensions: %w", err)
		}
		if seen[ref.key] || d == "period" || d == "value" {
			return fmt.Errorf("dimensions: %s listed twice or reserved", d)
		}
		seen[ref.key] = true
		ri.dims = append(ri.dims, ref)
	}
	c.rollups[r.Name] = ri
	c.byMetric[r.Metric] = append(c.byMetric[r.Metric], ri)
	return nil
}

func tableNames(s *warehouse.Schema) string {
	var out []string
	for _, t := range s.Tables {
		out = append(out, t.Name)
	}
	return dimList(out)
}

func columnNames(t *warehouse.Table) string {
	var out []string
	for _, col := range t.Columns {
		out = append(out, col.Name)
	}
	return dimList(out)
}
