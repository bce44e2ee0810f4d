package query

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// The reference computes answers in Go from the generated rows, with no SQL,
// to check the compiler's SQL against. Values inside it stay exact
// (*big.Rat, int64, unrounded float64) and are normalized only at the end.

type reference struct {
	ds      *dataset
	schema  *warehouse.Schema
	metrics map[string]metricdef.Metric
	// metricFilter applies a metric's own filters to a row.
	metricFilter map[string]func(r row, col func(string) any) bool
	// derived computes a derived metric from its dependencies' values (nil = NULL).
	derived map[string]func(get func(string) *float64) *float64
	index   map[string]map[any]row
}

// col reads a column of a fact row, following joins like the compiler.
func (ref *reference) col(table string, r row, name string) any {
	tb := ref.schema.Table(table)
	if tb.Column(name) != nil {
		return r[name]
	}
	dimTable, colName, ok := strings.Cut(name, ".")
	if !ok {
		dimTable, colName = "", name
	}
	for _, j := range tb.Joins {
		if dimTable != "" && j.Dimension != dimTable {
			continue
		}
		if ref.schema.Table(j.Dimension).Column(colName) == nil {
			continue
		}
		if ref.index == nil {
			ref.index = map[string]map[any]row{}
		}
		idx := ref.index[j.Dimension]
		if idx == nil {
			idx = map[any]row{}
			key := ref.schema.Table(j.Dimension).Key[0]
			for _, d := range ref.ds.tables[j.Dimension] {
				idx[d[key]] = d
			}
			ref.index[j.Dimension] = idx
		}
		if d, ok := idx[r[j.Column]]; ok && r[j.Column] != nil {
			return d[colName]
		}
		return nil
	}
	panic("reference: no column " + name)
}

// cell is one period×dimensions of the answer.
type cell struct {
	period time.Time
	dims   []any
	vals   map[string]any
}

func dimKey(dims []any) string {
	var b strings.Builder
	for _, d := range dims {
		switch x := d.(type) {
		case nil:
			b.WriteString("N|")
		case string:
			b.WriteString("s" + x + "|")
		default:
			fmt.Fprintf(&b, "%T%v|", d, d)
		}
	}
	return b.String()
}

func normAll(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		if r, ok := v.(*big.Rat); ok {
			out[i] = r.RatString()
		} else {
			out[i] = v
		}
	}
	return out
}

// answer computes req's rows.
func (ref *reference) answer(req Request) [][]Value {
	grain := req.Grain
	if grain == "" {
		grain = "all_time"
	}
	timed := grain != "all_time"
	bases, derived := ref.expand(req.Metrics)
	cells := map[string]*cell{}
	get := func(p time.Time, dims []any) *cell {
		k := p.String() + dimKey(dims)
		c := cells[k]
		if c == nil {
			c = &cell{period: p, dims: dims, vals: map[string]any{}}
			cells[k] = c
		}
		return c
	}
	groups := map[string]map[string][]any{} // metric → cell key → values
	var lo, hi time.Time
	combos := map[string][]any{}
	for _, name := range bases {
		m := ref.metrics[name]
		groups[name] = map[string][]any{}
		for _, r := range ref.ds.tables[m.Model] {
			colf := func(c string) any { return ref.col(m.Model, r, c) }
			if f := ref.metricFilter[name]; f != nil && !f(r, colf) {
				continue
			}
			if !ref.requestFilters(req, colf) {
				continue
			}
			var ts time.Time
			if m.Timestamp != "" {
				ts = r[m.Timestamp].(time.Time)
				if !req.Start.IsZero() && ts.Before(req.Start) || !req.End.IsZero() && !ts.Before(req.End) {
					continue
				}
			}
			var p time.Time
			if timed {
				p = truncGrain(grain, ts)
			}
			dims := make([]any, len(req.Dimensions))
			for i, d := range req.Dimensions {
				dims[i] = colf(d)
			}
			c := get(p, dims)
			k := p.String() + dimKey(dims)
			var v any = true // count(*)
			if m.Expression != "*" {
				v = r[m.Expression]
			}
			groups[name][k] = append(groups[name][k], v)
			c.vals[name] = nil
			combos[dimKey(dims)] = dims
			if timed && (lo.IsZero() || p.Before(lo)) {
				lo = p
			}
			if timed && p.After(hi) {
				hi = p
			}
		}
	}
	if !timed && len(req.Dimensions) == 0 {
		get(time.Time{}, []any{})
	}
	if timed {
		if !req.Start.IsZero() {
			lo = truncGrain(grain, req.Start)
		}
		if !req.End.IsZero() {
			hi = truncGrain(grain, req.End.Add(-time.Nanosecond))
		}
		if len(req.Dimensions) == 0 {
			combos[dimKey([]any{})] = []any{}
		}
		if !lo.IsZero() && !hi.IsZero() {
			for p := lo; !p.After(hi); p = step(grain, p) {
				for _, dims := range combos {
					get(p, dims)
				}
			}
		}
	}
	for _, c := range cells {
		k := c.period.String() + dimKey(c.dims)
		for _, name := range bases {
			c.vals[name] = ref.aggregate(ref.metrics[name], groups[name][k])
		}
		for _, name := range derived {
			c.vals[name] = ref.derivedValue(name, c.vals)
		}
	}
	list := make([]*cell, 0, len(cells))
	for _, c := range cells {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return less(list[i], list[j]) })
	secVals := ref.secondary(req, grain, list)
	var out [][]Value
	for i, c := range list {
		var r []Value
		if timed {
			r = append(r, c.period)
		}
		r = append(r, c.dims...)
		for _, m := range req.Metrics {
			r = append(r, ref.output(m, c.vals[m]))
		}
		r = append(r, secVals[i]...)
		out = append(out, r)
	}
	return out
}

func step(grain string, p time.Time) time.Time {
	switch grain {
	case "day":
		return p.AddDate(0, 0, 1)
	case "week":
		return p.AddDate(0, 0, 7)
	case "month":
		return p.AddDate(0, 1, 0)
	case "quarter":
		return p.AddDate(0, 3, 0)
	}
	return p.AddDate(1, 0, 0)
}

var identWords = regexp.MustCompile(`[a-z_]+`)

// expand returns the base and derived metrics a request reads.
func (ref *reference) expand(names []string) (bases, derived []string) {
	var visit func(string)
	visit = func(n string) {
		m := ref.metrics[n]
		if m.CalculationMethod != "derived" {
			if !slices.Contains(bases, n) {
				bases = append(bases, n)
			}
			return
		}
		for _, id := range identWords.FindAllString(m.Expression, -1) {
			if _, ok := ref.metrics[id]; ok {
				visit(id)
			}
		}
		if !slices.Contains(derived, n) {
			derived = append(derived, n)
		}
	}
	for _, n := range names {
		visit(n)
	}
	return bases, derived
}

func (ref *reference) columnType(m metricdef.Metric) warehouse.Type {
	if m.Expression == "*" {
		return warehouse.Type{Base: "bigint"}
	}
	return ref.schema.Table(m.Model).Column(m.Expression).Type
}

// aggregate applies a calculation method to a group's values (exactly).
func (ref *reference) aggregate(m metricdef.Metric, vals []any) any {
	var nn []any
	for _, v := range vals {
		if v != nil {
			nn = append(nn, v)
		}
	}
	switch m.CalculationMethod {
	case "count":
		return int64(len(nn))
	case "count_distinct":
		set := map[string]bool{}
		for _, v := range nn {
			set[fmt.Sprint(normAll([]any{v}))] = true
		}
		return int64(len(set))
	}
	if len(nn) == 0 {
		return nil
	}
	switch m.CalculationMethod {
	case "sum":
		return sumOf(nn)
	case "average":
		return toFloat(sumOf(nn)) / float64(len(nn))
	case "median":
		fs := make([]float64, len(nn))
		for i, v := range nn {
			fs[i] = toFloat(v)
		}
		sort.Float64s(fs)
		pos := 0.5 * float64(len(fs)-1)
		l, h := fs[int(math.Floor(pos))], fs[int(math.Ceil(pos))]
		return l + (h-l)*(pos-math.Floor(pos))
	case "min", "max":
		best := nn[0]
		for _, v := range nn[1:] {
			c := compare(v, best)
			if m.CalculationMethod == "min" && c < 0 || m.CalculationMethod == "max" && c > 0 {
				best = v
			}
		}
		return best
	}
	panic(m.CalculationMethod)
}

func sumOf(vs []any) any {
	switch vs[0].(type) {
	case *big.Rat:
		s := new(big.Rat)
		for _, v := range vs {
			s.Add(s, v.(*big.Rat))
		}
		return s
	case int64:
		var s int64
		for _, v := range vs {
			s += v.(int64)
		}
		return s
	}
	var s float64
	for _, v := range vs {
		s += v.(float64)
	}
	return s
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case *big.Rat:
		f, _ := x.Float64()
		return f
	case int64:
		return float64(x)
	case float64:
		return x
	}
	panic(fmt.Sprintf("toFloat %T", v))
}

func compare(a, b any) int {
	switch x := a.(type) {
	case *big.Rat:
		return x.Cmp(b.(*big.Rat))
	case int64:
		return cmpOrdered(x, b.(int64))
	case float64:
		return cmpOrdered(x, b.(float64))
	case string:
		return bytes.Compare([]byte(x), []byte(b.(string)))
	case time.Time:
		return x.Compare(b.(time.Time))
	case bool:
		return cmpOrdered(fmt.Sprint(x), fmt.Sprint(b))
	}
	panic(fmt.Sprintf("compare %T", a))
}

func cmpOrdered[T int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// less orders cells by period, then dimensions with NULLs last.
func less(a, b *cell) bool {
	if c := a.period.Compare(b.period); c != 0 {
		return c < 0
	}
	for i := range a.dims {
		x, y := a.dims[i], b.dims[i]
		switch {
		case x == nil && y == nil:
			continue
		case x == nil:
			return false
		case y == nil:
			return true
		}
		if c := compare(x, y); c != 0 {
			return c < 0
		}
	}
	return false
}

func (ref *reference) derivedValue(name string, vals map[string]any) any {
	f := ref.derived[name](func(dep string) *float64 {
		v, ok := vals[dep]
		if !ok {
			panic("reference: derived " + name + " reads " + dep + " before it is computed")
		}
		if v == nil {
			return nil
		}
		x := toFloat(v)
		return &x
	})
	if f == nil {
		return nil
	}
	return *f
}

// output normalizes an exact value like Execute does.
func (ref *reference) output(metric string, v any) Value {
	return outputValue(v, ref.metricScale(metric))
}

func (ref *reference) metricScale(metric string) int {
	m := ref.metrics[metric]
	if m.CalculationMethod == "derived" || m.Expression == "*" {
		return 0
	}
	return ref.columnType(m).Scale
}

func outputValue(v any, scale int) Value {
	switch x := v.(type) {
	case *big.Rat:
		return x.FloatString(scale)
	case float64:
		return roundFloat(x)
	case time.Time:
		return x.UTC()
	}
	return v
}

var likeCache = map[string]*regexp.Regexp{}

// requestFilters evaluates the request's filters on a row.
func (ref *reference) requestFilters(req Request, col func(string) any) bool {
	for _, f := range req.Filters {
		v := col(f.Field)
		op := normOp(f.Operator)
		switch op {
		case "is null":
			if v != nil {
				return false
			}
			continue
		case "is not null":
			if v == nil {
				return false
			}
			continue
		}
		if v == nil {
			return false
		}
		parse := func(s string) any {
			switch v.(type) {
			case int64:
				var n int64
				fmt.Sscan(s, &n)
				return n
			case *big.Rat:
				r, _ := new(big.Rat).SetString(s)
				return r
			case time.Time:
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					t, _ = time.Parse(time.DateOnly, s)
				}
				return t
			}
			return s
		}
		ok := false
		switch op {
		case "in", "not in":
			for _, s := range f.Values {
				if compare(v, parse(s)) == 0 {
					ok = true
				}
			}
			if op == "not in" {
				ok = !ok
			}
		case "like":
			re := likeCache[f.Values[0]]
			if re == nil {
				re = regexp.MustCompile("^" + strings.NewReplacer("%", ".*", "_", ".").Replace(regexp.QuoteMeta(f.Values[0])) + "$")
				likeCache[f.Values[0]] = re
			}
			ok = re.MatchString(v.(string))
		default:
			c := compare(v, parse(f.Values[0]))
			ok = map[string]bool{"=": c == 0, "!=": c != 0, "<>": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
		}
		if !ok {
			return false
		}
	}
	return true
}

// secondary computes each cell's secondary calculations (cells sorted by period within dimensions).
func (ref *reference) secondary(req Request, grain string, cells []*cell) [][]Value {
	out := make([][]Value, len(cells))
	series := map[string][]int{} // dims → cell indexes in period order
	for i, c := range cells {
		k := dimKey(c.dims)
		series[k] = append(series[k], i)
	}
	for _, s := range req.Secondary {
		ms := s.Metrics
		if len(ms) == 0 {
			ms = req.Metrics
		}
		for _, m := range ms {
			scale := ref.metricScale(m)
			for _, idx := range series {
				for pos, ci := range idx {
					val := func(p int) any { return cells[idx[p]].vals[m] }
					var v any
					interval := s.Interval
					switch s.Calculation {
					case "prior", "period_over_period":
						if interval == 0 {
							interval = 1
						}
						var prev any
						if pos-interval >= 0 {
							prev = val(pos - interval)
						}
						cur := val(pos)
						switch {
						case s.Calculation == "prior":
							v = prev
						case cur == nil || prev == nil:
							v = nil
						case s.ComparisonStrategy == "ratio":
							if toFloat(prev) != 0 {
								v = toFloat(cur) / toFloat(prev)
							}
						default:
							v = minus(cur, prev)
						}
					case "rolling", "period_to_date":
						from := 0
						if s.Calculation == "rolling" && interval > 0 {
							from = max(0, pos-interval+1)
						}
						if s.Calculation == "period_to_date" {
							from = pos
							for from > 0 && truncGrain(s.Period, cells[idx[from-1]].period).Equal(truncGrain(s.Period, cells[ci].period)) {
								from--
							}
						}
						var window []any
						for p := from; p <= pos; p++ {
							if x := val(p); x != nil {
								window = append(window, x)
							}
						}
						v = windowAgg(s.Aggregate, window)
					}
					out[ci] = append(out[ci], outputValue(v, scale))
				}
			}
		}
	}
	return out
}

func minus(a, b any) any {
	switch x := a.(type) {
	case *big.Rat:
		return new(big.Rat).Sub(x, b.(*big.Rat))
	case int64:
		return x - b.(int64)
	}
	return a.(float64) - b.(float64)
}

func windowAgg(agg string, vs []any) any {
	if agg == "count" {
		return int64(len(vs))
	}
	if len(vs) == 0 {
		return nil
	}
	switch agg {
	case "sum":
		return sumOf(vs)
	case "average":
		return toFloat(sumOf(vs)) / float64(len(vs))
	}
	best := vs[0]
	for _, v := range vs[1:] {
		c := compare(v, best)
		if agg == "min" && c < 0 || agg == "max" && c > 0 {
			best = v
		}
	}
	return best
}
