package query

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// testSchema is the star schema the tests fill: sales with a customer
// dimension, and the seed's fct_subscriptions.
func testSchema() *warehouse.Schema {
	col := func(name, base string) warehouse.Column {
		return warehouse.Column{Name: name, Type: warehouse.Type{Base: base}}
	}
	money := warehouse.Type{Base: "numeric", Precision: 18, Scale: 2}
	return &warehouse.Schema{Tables: []*warehouse.Table{
		{Name: "fct_sales", Kind: warehouse.Fact, EventTime: "sold_at", Columns: []warehouse.Column{
			col("sale_id", "bigint"), col("sold_on", "date"), col("sold_at", "timestamp"),
			{Name: "amount", Type: money}, col("qty", "integer"), col("score", "double"),
			col("segment", "text"), col("channel", "text"), col("customer_id", "text"), col("is_refund", "boolean"),
		}, Joins: []warehouse.Join{{Dimension: "dim_customers", Column: "customer_id"}}},
		{Name: "dim_customers", Kind: warehouse.Dimension, Key: []string{"customer_id"}, Columns: []warehouse.Column{
			col("customer_id", "text"), col("region", "text"), col("tier", "integer"),
		}},
		{Name: "fct_subscriptions", Kind: warehouse.Fact, Key: []string{"subscription_id"}, EventTime: "updated_at", Columns: []warehouse.Column{
			col("subscription_id", "text"), col("customer_id", "text"), {Name: "monthly_value", Type: money},
			col("date_month", "date"), col("customer_segment", "text"), col("product_category", "text"),
			col("is_active", "boolean"), col("updated_at", "timestamp"),
		}},
	}}
}

// row is one generated table row: column → nil, string, int64, float64,
// bool, time.Time or *big.Rat (numeric).
type row map[string]any

// dataset is what the tests insert, kept to compute answers in Go.
type dataset struct {
	tables map[string][]row
}

var (
	segments = []string{"enterprise", "smb", "mid-market", "o'brien", "Zeta", "alpha", "Árvore"}
	regions  = []string{"north", "south", "east", "west"}
)

// genData makes n sales over 2023–2024, customers, and subscriptions.
func genData(seed uint64, n int) *dataset {
	rnd := rand.New(rand.NewPCG(seed, 7))
	ds := &dataset{tables: map[string][]row{}}
	maybe := func(p float64, v any) any {
		if rnd.Float64() < p {
			return nil
		}
		return v
	}
	for i := 1; i <= 200; i++ {
		ds.tables["dim_customers"] = append(ds.tables["dim_customers"], row{
			"customer_id": fmt.Sprintf("c%d", i),
			"region":      maybe(0.1, regions[rnd.IntN(len(regions))]),
			"tier":        maybe(0.1, int64(1+rnd.IntN(3))),
		})
	}
	t0 := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(2 * 365 * 24 * time.Hour / time.Microsecond)
	for i := 1; i <= n; i++ {
		at := t0.Add(time.Duration(rnd.Int64N(span)) * time.Microsecond)
		on := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -rnd.IntN(3))
		cust := any(fmt.Sprintf("c%d", 1+rnd.IntN(200)))
		if rnd.Float64() < 0.03 {
			cust = "c999" // no such customer: the left join keeps the sale
		}
		ds.tables["fct_sales"] = append(ds.tables["fct_sales"], row{
			"sale_id":     int64(i),
			"sold_on":     on,
			"sold_at":     at,
			"amount":      maybe(0.05, big.NewRat(rnd.Int64N(1050001)-50000, 100)),
			"qty":         maybe(0.05, int64(rnd.IntN(21))),
			"score":       maybe(0.1, float64(rnd.IntN(601)-200)/4),
			"segment":     maybe(0.05, segments[rnd.IntN(len(segments))]),
			"channel":     maybe(0.1, []string{"web", "store"}[rnd.IntN(2)]),
			"customer_id": maybe(0.03, cust),
			"is_refund":   rnd.Float64() < 0.1,
		})
	}
	for i := 1; i <= n/6; i++ {
		month := t0.AddDate(0, rnd.IntN(24), 0)
		ds.tables["fct_subscriptions"] = append(ds.tables["fct_subscriptions"], row{
			"subscription_id":  fmt.Sprintf("s%d", i),
			"customer_id":      fmt.Sprintf("c%d", 1+rnd.IntN(200)),
			"monthly_value":    maybe(0.03, big.NewRat(rnd.Int64N(5000000), 100)),
			"date_month":       month,
			"customer_segment": maybe(0.05, segments[rnd.IntN(3)]),
			"product_category": []string{"crm", "erp", "bi"}[rnd.IntN(3)],
			"is_active":        maybe(0.05, rnd.Float64() < 0.8),
			"updated_at":       month.Add(time.Duration(rnd.IntN(1000)) * time.Hour),
		})
	}
	return ds
}

// sqlLiteral renders a test value as a SQL literal of type t.
func sqlLiteral(v any, t warehouse.Type, d store.Dialect) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case int64:
		return fmt.Sprint(x)
	case float64:
		return fmt.Sprintf("CAST(%g AS double precision)", x)
	case bool:
		return fmt.Sprint(x)
	case *big.Rat:
		return "CAST('" + x.FloatString(t.Scale) + "' AS " + t.SQL(d) + ")"
	case time.Time:
		if t.Base == "date" {
			return "DATE '" + x.Format(time.DateOnly) + "'"
		}
		return "CAST('" + formatTS(x) + "' AS " + t.SQL(d) + ")"
	}
	panic(fmt.Sprintf("literal %T", v))
}

// load creates the schema's tables in st and inserts ds.
func load(t testing.TB, st *store.Store, s *warehouse.Schema, ds *dataset) {
	t.Helper()
	ctx := context.Background()
	for _, tb := range s.Tables {
		var defs, names []string
		for _, c := range tb.Columns {
			defs = append(defs, q(c.Name)+" "+c.Type.SQL(st.Dialect))
			names = append(names, q(c.Name))
		}
		mustExec(t, st, "CREATE TABLE "+q(tb.Name)+" ("+strings.Join(defs, ", ")+")")
		rows := ds.tables[tb.Name]
		for start := 0; start < len(rows); start += 500 {
			var vals []string
			for _, r := range rows[start:min(start+500, len(rows))] {
				var lits []string
				for _, c := range tb.Columns {
					lits = append(lits, sqlLiteral(r[c.Name], c.Type, st.Dialect))
				}
				vals = append(vals, "("+strings.Join(lits, ", ")+")")
			}
			mustExec(t, st, "INSERT INTO "+q(tb.Name)+" ("+strings.Join(names, ", ")+") VALUES "+strings.Join(vals, ", "))
		}
	}
	_ = ctx
}

func mustExec(t testing.TB, st *store.Store, stmt string, args ...any) {
	t.Helper()
	ctx := context.Background()
	var err error
	if st.Dialect == store.Postgres {
		_, err = st.PG.Exec(ctx, stmt, args...)
	} else {
		_, err = st.Duck.ExecContext(ctx, stmt, args...)
	}
	if err != nil {
		t.Fatalf("%s: %v\n%.500s", st.Dialect, err, stmt)
	}
}

// openStores opens a fresh PostgreSQL database and an in-memory DuckDB.
func openStores(t testing.TB) []*store.Store {
	t.Helper()
	ctx := context.Background()
	// The test tables are queried right after they are filled, without
	// statistics: the planner's guesses would make JIT compile every query.
	pg, err := store.Open(ctx, pgtest.NewDatabase(t)+"&jit=off")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	dk, err := store.Open(ctx, "duckdb::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dk.Close)
	return []*store.Store{pg, dk}
}

// loadMetrics parses the test metric files: testdata/sales.yml and the seed's mrr.yml.
func loadMetrics(t testing.TB) []metricdef.Metric {
	t.Helper()
	var all []metricdef.Metric
	for _, f := range []string{"testdata/sales.yml", "../metricdef/testdata/mrr.yml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := metricdef.ParseFile(f, data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ms...)
	}
	return all
}

// run compiles and executes req on st, returning the plan and rows.
func run(t testing.TB, c *Compiler, st *store.Store, req Request, opts CompileOptions) (*Plan, [][]Value) {
	t.Helper()
	p, err := c.Compile(req, st.Dialect, opts)
	if err != nil {
		t.Fatalf("Compile(%+v): %v", req, err)
	}
	var out [][]Value
	err = Execute(context.Background(), st, p, func(r []Value) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: Execute: %v\n%s\nargs %v", st.Dialect, err, p.SQL, p.Args)
	}
	return p, out
}
