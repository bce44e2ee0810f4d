package query

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

func TestCompileErrors(t *testing.T) {
	c, err := NewCompiler(loadMetrics(t), testSchema())
	if err != nil {
		t.Fatal(err)
	}
	mrr := func(r Request) Request { r.Metrics = []string{"mrr"}; return r }
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		req  Request
		is   error
		want string
	}{
		{"unknown metric", Request{Metrics: []string{"nope"}}, ErrUnknownMetric, `unknown metric "nope"`},
		{"no metrics", Request{}, ErrInvalidRequest, "no metrics requested"},
		{"duplicate metric", Request{Metrics: []string{"mrr", "mrr"}}, ErrInvalidRequest, "mrr requested twice"},
		{"unknown dimension", mrr(Request{Dimensions: []string{"x"}}), ErrUnknownDimension,
			`unknown dimension "x" for metric mrr; its dimensions: customer_segment, product_category`},
		{"column that is not a declared dimension", mrr(Request{Dimensions: []string{"is_active"}}), ErrUnknownDimension, `unknown dimension "is_active"`},
		{"dimension of one metric only", Request{Metrics: []string{"mrr", "revenue"}, Dimensions: []string{"segment"}}, ErrUnknownDimension,
			`unknown dimension "segment" for metric mrr`},
		{"derived metric's own dimensions", Request{Metrics: []string{"aov"}, Grain: "month", Dimensions: []string{"channel", "region", "segment", "tier"}}, nil, ""},
		{"grain not in time_grains", mrr(Request{Grain: "day"}), ErrInvalidRequest, "grain day is not in the time_grains of metric mrr (month, quarter, year)"},
		{"unknown grain", mrr(Request{Grain: "hour"}), ErrInvalidRequest, `unknown grain "hour"`},
		{"bad filter operator", mrr(Request{Filters: []Filter{{Field: "customer_segment", Operator: "==", Values: []string{"a"}}}}), ErrInvalidRequest, `unknown operator "=="`},
		{"filter on unknown field", mrr(Request{Filters: []Filter{{Field: "monthly_value", Operator: "=", Values: []string{"1"}}}}), ErrUnknownDimension, `unknown dimension "monthly_value"`},
		{"filter value of wrong type", Request{Metrics: []string{"revenue"}, Filters: []Filter{{Field: "tier", Operator: ">", Values: []string{"two"}}}}, ErrInvalidRequest, `"two" is not an integer`},
		{"filter arity", mrr(Request{Filters: []Filter{{Field: "customer_segment", Operator: "=", Values: []string{"a", "b"}}}}), ErrInvalidRequest, "takes one value, got 2"},
		{"like on integer", Request{Metrics: []string{"revenue"}, Filters: []Filter{{Field: "tier", Operator: "like", Values: []string{"1%"}}}}, ErrInvalidRequest, "like needs a text dimension"},
		{"bad order field", mrr(Request{Order: []Order{{Field: "nope"}}}), ErrInvalidRequest, `cannot order by "nope": not a result column (columns: mrr)`},
		{"negative limit", mrr(Request{Limit: -1}), ErrInvalidRequest, "limit -1 is negative"},
		{"start after end", mrr(Request{Start: t0, End: t0}), ErrInvalidRequest, "is not before end"},
		{"secondary without grain", mrr(Request{Secondary: []Secondary{{Calculation: "prior"}}}), ErrInvalidRequest, "needs a time grain"},
		{"unknown calculation", mrr(Request{Grain: "month", Secondary: []Secondary{{Calculation: "lead"}}}), ErrInvalidRequest, "unknown calculation"},
		{"period_to_date finer than grain", mrr(Request{Grain: "quarter", Secondary: []Secondary{{Calculation: "period_to_date", Aggregate: "sum", Period: "month"}}}), ErrInvalidRequest, "must be coarser"},
		{"missing comparison strategy", mrr(Request{Grain: "month", Secondary: []Secondary{{Calculation: "period_over_period"}}}), ErrInvalidRequest, "comparison_strategy"},
		{"bad alias", mrr(Request{Grain: "month", Secondary: []Secondary{{Calculation: "prior", Alias: "x; drop"}}}), ErrInvalidRequest, "alias"},
		{"same alias twice", mrr(Request{Grain: "month", Secondary: []Secondary{{Calculation: "prior", Alias: "p"}, {Calculation: "prior", Interval: 2, Alias: "p"}}}), ErrInvalidRequest, `two result columns are named "p"`},
		{"secondary on unrequested metric", mrr(Request{Grain: "month", Secondary: []Secondary{{Calculation: "prior", Metrics: []string{"revenue"}}}}), ErrInvalidRequest, "not among the requested"},
		{"sum of text metric", Request{Metrics: []string{"revenue"}, Grain: "month", Secondary: []Secondary{{Calculation: "rolling", Aggregate: "median"}}}, ErrInvalidRequest, "aggregate \"median\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Compile(tc.req, store.Postgres, CompileOptions{})
			if tc.is == nil {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %v containing %q", err, tc.is, tc.want)
			}
		})
	}
}

func TestNewCompilerErrors(t *testing.T) {
	base := "version: 2\nmetrics:\n  - name: m\n    label: M\n"
	tests := []struct{ name, yaml, want string }{
		{"unknown model", base + "    model: ref('nope')\n    calculation_method: count\n    expression: '*'\n",
			"f.yml:3: metric m: model: ref('nope') names no warehouse table"},
		{"dimension table as model", base + "    model: ref('dim_customers')\n    calculation_method: count\n    expression: '*'\n",
			"metric m: model: ref('dim_customers') is a dimension table"},
		{"timestamp not a column", base + "    model: ref('fct_sales')\n    calculation_method: count\n    expression: '*'\n    timestamp: nope\n",
			"metric m: timestamp: nope is not a column of fct_sales"},
		{"timestamp of wrong type", base + "    model: ref('fct_sales')\n    calculation_method: count\n    expression: '*'\n    timestamp: qty\n",
			"timestamp: qty is integer; want date or timestamp"},
		{"dimension not a column", base + "    model: ref('fct_sales')\n    calculation_method: count\n    expression: '*'\n    dimensions: [colour]\n",
			"metric m: dimensions: colour is not a column of fct_sales or of a dimension it joins"},
		{"filter field not a column", base + "    model: ref('fct_sales')\n    calculation_method: count\n    expression: '*'\n    filters: [{field: x, operator: '=', value: 1}]\n",
			"metric m: filters: x is not a column"},
		{"filter value not a literal", base + "    model: ref('fct_sales')\n    calculation_method: count\n    expression: '*'\n    filters: [{field: segment, operator: '=', value: enterprise}]\n",
			`"enterprise" is not a SQL literal`},
		{"filter value of wrong type", base + "    model: ref('fct_sales')\n    calculation_method: count\n    expression: '*'\n    filters: [{field: qty, operator: '>', value: \"'many'\"}]\n",
			`qty: "many" is not an integer`},
		{"expression not a column", base + "    model: ref('fct_sales')\n    calculation_method: sum\n    expression: price\n",
			"expression: price is not a column of fct_sales"},
		{"sum of text", base + "    model: ref('fct_sales')\n    calculation_method: sum\n    expression: segment\n",
			"calculation_method: sum needs a numeric expression"},
		{"window", base + "    model: ref('fct_sales')\n    calculation_method: count\n    expression: '*'\n    timestamp: sold_on\n    window: {count: 7, period: day}\n",
			"window: metric windows are not supported"},
		{"derived cycle", "metrics:\n  - {name: a, label: A, calculation_method: derived, expression: 'b + 1'}\n  - {name: b, label: B, calculation_method: derived, expression: 'a * 2'}\n",
			"circular dependency a -> b -> a"},
		{"derived on nothing", "metrics:\n  - {name: a, label: A, calculation_method: derived, expression: 'x + 1'}\n",
			`f.yml:2: metric a: expression: "x + 1" references no known metric`},
		{"derived on a disabled metric", "metrics:\n  - {name: a, label: A, calculation_method: derived, expression: 'b + 1'}\n  - {name: b, label: B, model: \"ref('fct_sales')\", calculation_method: count, expression: '*', config: {enabled: false}}\n",
			"depends on disabled metric b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := metricdef.ParseFile("f.yml", []byte(tc.yaml))
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			_, err = NewCompiler(ms, testSchema())
			if err == nil || !errors.Is(err, metricdef.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	// Rollups are checked against their metrics.
	for _, tc := range []struct {
		r    warehouse.Rollup
		want string
	}{
		{warehouse.Rollup{Name: "r1", Metric: "nope", Grain: "month", File: "w.yml", Line: 9}, `w.yml:9: rollup r1: metric: unknown or disabled metric "nope"`},
		{warehouse.Rollup{Name: "r2", Metric: "mrr", Grain: "day", File: "w.yml", Line: 10}, "grain: day is not in the time_grains of mrr"},
		{warehouse.Rollup{Name: "r3", Metric: "mrr", Grain: "month", Dimensions: []string{"region"}, File: "w.yml", Line: 11}, `unknown dimension "region" for metric mrr`},
		{warehouse.Rollup{Name: "r4", Metric: "aov", Grain: "month", File: "w.yml", Line: 12}, "aov is derived"},
	} {
		s := testSchema()
		s.Rollups = []warehouse.Rollup{tc.r}
		_, err := NewCompiler(loadMetrics(t), s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("rollup %s: err = %v, want %q", tc.r.Name, err, tc.want)
		}
	}
}

func TestSeedLoadsUnchanged(t *testing.T) {
	c, err := NewCompiler(loadMetrics(t), testSchema())
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Compile(Request{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}, store.DuckDB, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// value: true is a YAML bool: a boolean literal, not a bound string.
	if !strings.Contains(p.SQL, `"f"."is_active" = TRUE`) || len(p.Args) != 0 {
		t.Fatalf("seed filter rendered as:\n%s\nargs %v", p.SQL, p.Args)
	}
}
