package query

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/riacho/riacho/services/metrics/internal/store"
)

// FuzzCompile builds requests from fuzzed strings: compiling never panics,
// and the SQL text never depends on request values or aliases (they are
// bound parameters or plan metadata), so it equals the SQL compiled with
// fixed stand-ins.
func FuzzCompile(f *testing.F) {
	c, err := NewCompiler(loadMetrics(f), testSchema())
	if err != nil {
		f.Fatal(err)
	}
	f.Add("mrr", "month", "customer_segment", "customer_segment", "=", "smb", "period", "x", "period_over_period", 1, 0)
	f.Add("revenue", "day", "region", "tier", "in", "2", "revenue", "a_b", "rolling", 3, 5)
	f.Add("aov", "week", "segment", "segment", "like", "%'; drop table x; --", "aov", "", "prior", 0, 1)
	f.Add("orders", "", "dim_customers.tier", "channel", "is null", "", "orders", "z", "period_to_date", 2, 0)
	f.Fuzz(func(t *testing.T, metric, grain, dim, field, op, value, order, alias, calc string, interval, limit int) {
		build := func(value, alias string) Request {
			r := Request{Metrics: []string{metric}, Grain: grain, Limit: limit % 1000}
			if dim != "" {
				r.Dimensions = []string{dim}
			}
			if field != "" {
				vals := []string{value}
				if strings.HasPrefix(op, "is") {
					vals = nil
				}
				r.Filters = []Filter{{Field: field, Operator: op, Values: vals}}
			}
			if order != "" {
				r.Order = []Order{{Field: order, Desc: interval%2 == 0}}
			}
			if calc != "" {
				r.Secondary = []Secondary{{Calculation: calc, ComparisonStrategy: "ratio", Interval: interval % 20,
					Aggregate: "sum", Period: "year", Alias: alias}}
				switch calc {
				case "prior":
					r.Secondary[0].ComparisonStrategy, r.Secondary[0].Aggregate, r.Secondary[0].Period = "", "", ""
				case "rolling":
					r.Secondary[0].ComparisonStrategy, r.Secondary[0].Period = "", ""
				case "period_to_date":
					r.Secondary[0].ComparisonStrategy, r.Secondary[0].Interval = "", 0
				case "period_over_period":
					r.Secondary[0].Aggregate, r.Secondary[0].Period = "", ""
				}
			}
			return r
		}
		for _, d := range []store.Dialect{store.Postgres, store.DuckDB} {
			p, err := c.Compile(build(value, alias), d, CompileOptions{})
			if err != nil {
				continue
			}
			if order != "" && order == alias {
				continue // the order field names the alias: the stand-in would not compile
			}
			stand, err := c.Compile(build("1", "stand_in"), d, CompileOptions{})
			if err != nil {
				continue // the value was valid for the column and the stand-in is not
			}
			if p.SQL != stand.SQL {
				t.Fatalf("SQL depends on request values:\n%s\n%s", p.SQL, stand.SQL)
			}
			if len(p.Args) != len(stand.Args) || !reflect.DeepEqual(columnRoles(p.Columns), columnRoles(stand.Columns)) {
				t.Fatalf("args %v vs %v", p.Args, stand.Args)
			}
		}
	})
}

// BenchmarkCompile compiles MRR by month×segment with two secondary calculations.
func BenchmarkCompile(b *testing.B) {
	c, err := NewCompiler(loadMetrics(b), testSchema())
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"},
		Filters:   []Filter{{Field: "product_category", Operator: "in", Values: []string{"crm", "erp"}}},
		Secondary: []Secondary{{Calculation: "period_over_period", ComparisonStrategy: "ratio"}, {Calculation: "rolling", Aggregate: "average", Interval: 3}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Compile(req, store.DuckDB, CompileOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteMRR answers MRR by month×segment over 1M fct_subscriptions rows in DuckDB.
func BenchmarkExecuteMRR(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, "duckdb::memory:")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c, err := NewCompiler(loadMetrics(b), testSchema())
	if err != nil {
		b.Fatal(err)
	}
	tb := testSchema().Table("fct_subscriptions")
	var defs []string
	for _, col := range tb.Columns {
		defs = append(defs, q(col.Name)+" "+col.Type.SQL(st.Dialect))
	}
	mustExec(b, st, "CREATE TABLE fct_subscriptions ("+strings.Join(defs, ", ")+")")
	const n = 1_000_000
	mustExec(b, st, fmt.Sprintf(`INSERT INTO fct_subscriptions SELECT 's' || i, 'c' || (i %% 5000),
		CAST((hash(i) %% 5000000) / 100.0 AS DECIMAL(18,2)), DATE '2023-01-01' + CAST(i %% 730 AS INTEGER),
		['enterprise', 'smb', 'mid-market', NULL][1 + CAST(i %% 4 AS INTEGER)], ['crm', 'erp', 'bi'][1 + CAST(i %% 3 AS INTEGER)],
		i %% 5 <> 0, TIMESTAMPTZ '2023-01-01 00:00:00+00' + to_seconds(i) FROM range(%d) t(i)`, n))
	p, err := c.Compile(Request{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}, st.Dialect, CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rows = 0
		if err := Execute(ctx, st, p, func([]Value) error { rows++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if rows != 24*4 {
		b.Fatalf("%d rows, want 96", rows)
	}
	b.ReportMetric(float64(n), "facts/op")
}

func columnRoles(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Role + " " + c.Type
	}
	return out
}
