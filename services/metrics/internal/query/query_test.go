package query

import (
	"fmt"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// env is a loaded test warehouse on both engines with its Go reference.
type env struct {
	c      *Compiler
	stores []*store.Store
	ref    *reference
}

func newEnv(t testing.TB, n int) *env {
	t.Helper()
	schema := testSchema()
	metrics := loadMetrics(t)
	return newEnvWith(t, n, metrics, schema)
}

func newEnvWith(t testing.TB, n int, metrics []metricdef.Metric, schema *warehouse.Schema) *env {
	t.Helper()
	c, err := NewCompiler(metrics, schema)
	if err != nil {
		t.Fatalf("NewCompiler: %v", err)
	}
	ds := genData(42, n)
	stores := openStores(t)
	for _, st := range stores {
		load(t, st, schema, ds)
	}
	ref := &reference{ds: ds, schema: schema, metrics: map[string]metricdef.Metric{},
		metricFilter: map[string]func(row, func(string) any) bool{
			"revenue":    func(r row, _ func(string) any) bool { return r["is_refund"] == false },
			"avg_amount": func(r row, _ func(string) any) bool { return r["segment"] != nil && r["segment"] != "Zeta" },
			"max_qty":    func(r row, _ func(string) any) bool { return r["channel"] == "web" || r["channel"] == "store" },
			"score_total": func(r row, _ func(string) any) bool {
				return r["amount"] != nil && r["amount"].(*big.Rat).Sign() >= 0
			},
			"mrr": func(r row, _ func(string) any) bool { return r["is_active"] == true },
		},
		derived: map[string]func(func(string) *float64) *float64{
			"aov": func(get func(string) *float64) *float64 {
				rev, ord := get("revenue"), get("orders")
				if rev == nil || ord == nil || *ord == 0 {
					return nil
				}
				v := *rev / *ord
				return &v
			},
			"aov_per_unit": func(get func(string) *float64) *float64 {
				a, u := get("aov"), get("units")
				if a == nil || u == nil || *u == 0 {
					return nil
				}
				v := *a / *u * 100
				return &v
			},
		}}
	for _, m := range metrics {
		ref.metrics[m.Name] = m
	}
	return &env{c: c, stores: stores, ref: ref}
}

// check runs req on both engines and compares each with the reference and with each other.
func (e *env) check(t *testing.T, req Request) [][]Value {
	t.Helper()
	want := e.ref.answer(req)
	var first [][]Value
	for i, st := range e.stores {
		p, got := run(t, e.c, st, req, CompileOptions{})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %d rows, want %d\n%s\nfirst difference: %s", st.Dialect, len(got), len(want), p.SQL, firstDiff(got, want))
		}
		if i == 0 {
			first = got
		} else if !reflect.DeepEqual(got, first) {
			t.Fatalf("dialects differ: %s", firstDiff(got, first))
		}
	}
	return want
}

func firstDiff(got, want [][]Value) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("row %d:\n got  %#v\n want %#v", i, got[i], want[i])
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("extra row %#v", got[len(want)])
	}
	if len(want) > len(got) {
		return fmt.Sprintf("missing row %#v", want[len(got)])
	}
	return "none"
}

var baseMetrics = []string{"revenue", "orders", "units", "avg_amount", "median_score", "min_amount", "max_qty", "buyers", "score_total"}

func TestSeedMRR(t *testing.T) {
	e := newEnv(t, 3000)
	req := Request{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}
	rows := e.check(t, req)
	if len(rows) < 24*3 {
		t.Fatalf("MRR by month×segment: %d rows, want at least 72", len(rows))
	}
	p, err := e.c.Compile(req, store.Postgres, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []Column{{"period", "period", "date"}, {"customer_segment", "dimension", "text"}, {"mrr", "metric", "numeric(38,2)"}}
	if !reflect.DeepEqual(p.Columns, wantCols) || !reflect.DeepEqual(p.Models, []string{"fct_subscriptions"}) {
		t.Fatalf("plan columns %+v models %v", p.Columns, p.Models)
	}
	for _, g := range []string{"quarter", "year", ""} {
		e.check(t, Request{Metrics: []string{"mrr"}, Grain: g, Dimensions: []string{"product_category", "customer_segment"}})
	}
}

func TestEveryMethodGrainDimensionFilter(t *testing.T) {
	e := newEnv(t, 3000)
	dimSets := [][]string{nil, {"segment"}, {"channel", "region"}, {"dim_customers.tier"}}
	filterSets := [][]Filter{nil,
		{{Field: "segment", Operator: "in", Values: []string{"enterprise", "o'brien", "Árvore"}}},
		{{Field: "dim_customers.tier", Operator: ">=", Values: []string{"2"}}, {Field: "channel", Operator: "is not null"}},
		{{Field: "segment", Operator: "like", Values: []string{"%e%"}}, {Field: "region", Operator: "!=", Values: []string{"north"}}},
	}
	for _, grain := range []string{"day", "week", "month", "quarter", "year", "all_time"} {
		for di, dims := range dimSets {
			for fi, filters := range filterSets {
				if grain == "day" && di > 1 && fi > 0 {
					continue // keeps the day grain's runtime down; day×dims×filters is covered above
				}
				t.Run(fmt.Sprintf("%s/dims%d/filters%d", grain, di, fi), func(t *testing.T) {
					e.check(t, Request{Metrics: baseMetrics, Grain: grain, Dimensions: dims, Filters: filters})
				})
			}
		}
	}
	for _, m := range baseMetrics {
		t.Run("alone/"+m, func(t *testing.T) {
			e.check(t, Request{Metrics: []string{m}, Grain: "month", Dimensions: []string{"segment"}})
			e.check(t, Request{Metrics: []string{m}})
		})
	}
}

func TestRange(t *testing.T) {
	e := newEnv(t, 2000)
	start := time.Date(2023, 3, 15, 12, 30, 0, 0, time.UTC)
	end := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, grain := range []string{"day", "month", "all_time"} {
		e.check(t, Request{Metrics: []string{"revenue", "orders", "avg_amount"}, Grain: grain, Start: start, End: end, Dimensions: []string{"channel"}})
		e.check(t, Request{Metrics: []string{"orders"}, Grain: grain, Start: start})
		e.check(t, Request{Metrics: []string{"revenue"}, Grain: grain, End: end})
	}
	// A range with no rows still has its periods (counts 0, sums NULL).
	rows := e.check(t, Request{Metrics: []string{"orders", "revenue"}, Grain: "month",
		Start: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2030, 4, 1, 0, 0, 0, 0, time.UTC)})
	want := [][]Value{
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), int64(0), nil},
		{time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC), int64(0), nil},
		{time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC), int64(0), nil},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("empty range = %v", rows)
	}
}

func TestDerived(t *testing.T) {
	e := newEnv(t, 3000)
	for _, grain := range []string{"week", "month", "all_time"} {
		e.check(t, Request{Metrics: []string{"aov"}, Grain: grain, Dimensions: []string{"segment"}})
		e.check(t, Request{Metrics: []string{"aov_per_unit", "revenue"}, Grain: grain})
	}
	p, err := e.c.Compile(Request{Metrics: []string{"aov_per_unit"}}, store.DuckDB, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"aov_per_unit", "aov", "orders", "revenue", "units"}; !reflect.DeepEqual(p.Metrics, want) {
		t.Fatalf("plan metrics %v, want %v", p.Metrics, want)
	}
}

func TestSecondaryCalculations(t *testing.T) {
	e := newEnv(t, 3000)
	secs := []Secondary{
		{Calculation: "period_over_period", ComparisonStrategy: "ratio", Interval: 1},
		{Calculation: "period_over_period", ComparisonStrategy: "difference", Interval: 2},
		{Calculation: "rolling", Aggregate: "sum", Interval: 3},
		{Calculation: "rolling", Aggregate: "average"},
		{Calculation: "rolling", Aggregate: "min", Interval: 2},
		{Calculation: "rolling", Aggregate: "max", Interval: 4},
		{Calculation: "rolling", Aggregate: "count", Interval: 3},
		{Calculation: "period_to_date", Aggregate: "sum", Period: "year"},
		{Calculation: "period_to_date", Aggregate: "average", Period: "quarter"},
		{Calculation: "period_to_date", Aggregate: "max", Period: "year"},
		{Calculation: "prior", Interval: 12},
	}
	e.check(t, Request{Metrics: []string{"revenue", "orders", "units", "avg_amount", "min_amount"}, Grain: "month",
		Dimensions: []string{"segment"}, Secondary: secs})
	e.check(t, Request{Metrics: []string{"revenue", "aov"}, Grain: "week", Secondary: []Secondary{
		{Calculation: "period_to_date", Aggregate: "sum", Period: "month"},
		{Calculation: "rolling", Aggregate: "average", Interval: 4, Metrics: []string{"aov"}, Alias: "aov_4w"},
		{Calculation: "period_over_period", ComparisonStrategy: "ratio", Metrics: []string{"aov"}},
	}})
	e.check(t, Request{Metrics: []string{"orders"}, Grain: "day", Dimensions: []string{"channel"}, Secondary: []Secondary{
		{Calculation: "rolling", Aggregate: "sum", Interval: 7}, {Calculation: "period_to_date", Aggregate: "count", Period: "week"}}})
	p, err := e.c.Compile(Request{Metrics: []string{"revenue"}, Grain: "month", Secondary: secs}, store.Postgres, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range p.Columns[2:] {
		names = append(names, c.Name)
	}
	want := []string{"revenue_ratio_to_1_month_ago", "revenue_difference_to_2_month_ago", "revenue_rolling_sum_3_month",
		"revenue_rolling_average", "revenue_rolling_min_2_month", "revenue_rolling_max_4_month", "revenue_rolling_count_3_month",
		"revenue_sum_for_year", "revenue_average_for_quarter", "revenue_max_for_year", "revenue_12_month_prior"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("secondary names %v\nwant %v", names, want)
	}
}

func TestOrderAndLimit(t *testing.T) {
	e := newEnv(t, 1500)
	req := Request{Metrics: []string{"revenue", "orders"}, Grain: "quarter", Dimensions: []string{"segment"}}
	all := e.check(t, req)
	req.Order = []Order{{Field: "orders", Desc: true}, {Field: "segment"}}
	req.Limit = 5
	var answers [][][]Value
	for _, st := range e.stores {
		_, rows := run(t, e.c, st, req, CompileOptions{})
		answers = append(answers, rows)
	}
	if !reflect.DeepEqual(answers[0], answers[1]) || len(answers[0]) != 5 {
		t.Fatalf("ordered answers differ or wrong length:\n%v\n%v", answers[0], answers[1])
	}
	maxOrders := int64(-1)
	for _, r := range all {
		maxOrders = max(maxOrders, r[3].(int64))
	}
	for i, r := range answers[0] {
		if i == 0 && r[3] != maxOrders || i > 0 && r[3].(int64) > answers[0][i-1][3].(int64) {
			t.Fatalf("not ordered by orders desc: %v", answers[0])
		}
	}
}
