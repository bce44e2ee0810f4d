package query

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

func TestRollups(t *testing.T) {
	schema := testSchema()
	schema.Rollups = []warehouse.Rollup{
		{Name: "rollup_mrr_month_segment", Metric: "mrr", Grain: "month", Dimensions: []string{"customer_segment"}},
		{Name: "rollup_revenue_day", Metric: "revenue", Grain: "day", Dimensions: []string{"segment", "channel"}},
		{Name: "rollup_avg_month", Metric: "avg_amount", Grain: "month", Dimensions: []string{"segment"}},
		{Name: "rollup_orders_all", Metric: "orders", Grain: "all_time", Dimensions: []string{"dim_customers.tier"}},
	}
	e := newEnvWith(t, 2500, loadMetrics(t), schema)
	ctx := context.Background()
	fresh := map[string]bool{}
	for _, st := range e.stores {
		for _, name := range e.c.Rollups() {
			if err := RefreshRollup(ctx, st, e.c, name); err != nil {
				t.Fatalf("%s: RefreshRollup %s: %v", st.Dialect, name, err)
			}
			// A second refresh replaces the table.
			if err := RefreshRollup(ctx, st, e.c, name); err != nil {
				t.Fatalf("%s: RefreshRollup %s again: %v", st.Dialect, name, err)
			}
			fresh[name] = true
		}
	}
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		req    Request
		rollup string
	}{
		{"exact", Request{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}, "rollup_mrr_month_segment"},
		{"coarser grain", Request{Metrics: []string{"mrr"}, Grain: "year"}, "rollup_mrr_month_segment"},
		{"day to quarter, fewer dims", Request{Metrics: []string{"revenue"}, Grain: "quarter", Dimensions: []string{"segment"}}, "rollup_revenue_day"},
		{"filter on a rollup dimension", Request{Metrics: []string{"revenue"}, Grain: "week",
			Filters: []Filter{{Field: "channel", Operator: "=", Values: []string{"web"}}}}, "rollup_revenue_day"},
		{"aligned range", Request{Metrics: []string{"revenue"}, Grain: "month", Start: day(2023, 6, 1), End: day(2024, 3, 17)}, "rollup_revenue_day"},
		{"unaligned range", Request{Metrics: []string{"revenue"}, Grain: "month", Start: day(2023, 6, 1).Add(time.Hour)}, ""},
		{"filter off the rollup", Request{Metrics: []string{"revenue"}, Grain: "month",
			Filters: []Filter{{Field: "region", Operator: "=", Values: []string{"north"}}}}, ""},
		{"average exact", Request{Metrics: []string{"avg_amount"}, Grain: "month", Dimensions: []string{"segment"}}, "rollup_avg_month"},
		{"average not re-aggregated", Request{Metrics: []string{"avg_amount"}, Grain: "quarter", Dimensions: []string{"segment"}}, ""},
		{"all_time", Request{Metrics: []string{"orders"}, Dimensions: []string{"tier"}}, "rollup_orders_all"},
		{"derived over a rollup", Request{Metrics: []string{"aov"}, Grain: "month", Dimensions: []string{"segment"}}, "rollup_revenue_day"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := e.ref.answer(tc.req)
			for _, st := range e.stores {
				base, baseRows := run(t, e.c, st, tc.req, CompileOptions{})
				if base.Rollup != "" {
					t.Fatalf("rollup %s used without being fresh", base.Rollup)
				}
				p, rows := run(t, e.c, st, tc.req, CompileOptions{FreshRollups: fresh})
				if p.Rollup != tc.rollup {
					t.Fatalf("%s: plan used rollup %q, want %q\n%s", st.Dialect, p.Rollup, tc.rollup, p.SQL)
				}
				if !reflect.DeepEqual(rows, baseRows) || !reflect.DeepEqual(rows, want) {
					t.Fatalf("%s: rollup answer differs from the base table's: %s\n%s", st.Dialect, firstDiff(rows, want), p.SQL)
				}
			}
		})
	}
}

func TestExecuteStopsOnEmitError(t *testing.T) {
	e := newEnv(t, 500)
	stop := errors.New("client gone")
	for _, st := range e.stores {
		p, err := e.c.Compile(Request{Metrics: []string{"orders"}, Grain: "day"}, st.Dialect, CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = Execute(context.Background(), st, p, func([]Value) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Fatalf("%s: Execute = %v after %d rows, want the emit error after 3", st.Dialect, err, n)
		}
		// The store is still usable afterwards.
		if _, rows := run(t, e.c, st, Request{Metrics: []string{"orders"}}, CompileOptions{}); len(rows) != 1 || rows[0][0] != int64(500) {
			t.Fatalf("%s: orders = %v", st.Dialect, rows)
		}
	}
}
