package project

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func modelNames(ms []*Model) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestDAG(t *testing.T) {
	p, err := Load(filepath.Join("testdata", "dag"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "shop" {
		t.Errorf("Name = %q, want shop", p.Name)
	}
	// Inputs first, ties by name; the ephemeral model is left out.
	wantOrder := []string{"stg_customers", "dim_customers", "stg_orders", "stg_payments", "fct_orders", "customer_ltv", "order_count"}
	if got := modelNames(p.Order); !slices.Equal(got, wantOrder) {
		t.Errorf("Order = %v, want %v", got, wantOrder)
	}
	seen := map[string]bool{}
	for _, m := range p.Order {
		for _, in := range m.Inputs {
			if in.Kind == RelModel && !seen[in.Name] {
				t.Errorf("%s comes before its input %s", m.Name, in.Name)
			}
		}
		seen[m.Name] = true
	}
	if len(p.Models) != 8 {
		t.Errorf("Models has %d entries, want 8 (ephemeral included)", len(p.Models))
	}

	deps := map[string][]string{
		"stg_orders":         nil,
		"int_order_payments": {"stg_orders", "stg_payments"},
		"fct_orders":         {"int_order_payments", "stg_customers"},
		"dim_customers":      {"stg_customers"},
		"customer_ltv":       {"dim_customers", "fct_orders"},
		"order_count":        {"int_order_payments"},
	}
	for name, want := range deps {
		if got := p.Models[name].DependsOn; !slices.Equal(got, want) {
			t.Errorf("%s DependsOn = %v, want %v", name, got, want)
		}
	}

	model := func(n string) Relation {
		return Relation{Kind: RelModel, Name: n, Topic: "staging." + n, Table: "ref__" + n}
	}
	inputs := map[string][]Relation{
		"stg_customers": {{Kind: RelSource, Name: "shop.customers", Topic: "raw.erp.public.customers", Table: "src__shop__customers", Unwrap: "debezium"}},
		"stg_orders":    {{Kind: RelSource, Name: "shop.orders", Topic: "raw.shop.orders", Table: "src__shop__orders", Unwrap: "debezium"}},
		"stg_payments":  {{Kind: RelSource, Name: "shop.payments", Topic: "raw.shop.payments", Table: "src__shop__payments", Unwrap: "none"}},
		// The ephemeral model's inputs become its user's, in place.
		"fct_orders":    {model("stg_orders"), model("stg_payments"), model("stg_customers")},
		"dim_customers": {model("stg_customers")},
		"customer_ltv":  {model("dim_customers"), model("fct_orders")},
		"order_count":   {model("stg_orders"), model("stg_payments")},
	}
	for name, want := range inputs {
		if got := p.Models[name].Inputs; !reflect.DeepEqual(got, want) {
			t.Errorf("%s Inputs = %+v, want %+v", name, got, want)
		}
	}

	cte := "__dbt__cte__int_order_payments as (\n" +
		"SELECT o.order_id, o.customer_id, SUM(p.amount) AS paid\n" +
		"FROM \"ref__stg_orders\" o\n" +
		"JOIN \"ref__stg_payments\" p USING (order_id)\n" +
		"GROUP BY 1, 2\n" +
		")"
	sqls := map[string]string{
		"stg_payments": "SELECT order_id, amount, 'BRL' AS currency\nFROM \"src__shop__payments\"\nWHERE amount >= 10\n",
		// A leading WITH takes the CTE first, then a comma.
		"fct_orders": "\nWITH " + cte + ", op AS (\n    SELECT * FROM __dbt__cte__int_order_payments\n)\n" +
			"SELECT op.*, c.name FROM op JOIN \"ref__stg_customers\" c USING (customer_id)\n",
		// Without one, a WITH is added.
		"order_count": "with " + cte + "\nSELECT COUNT(*) AS n FROM __dbt__cte__int_order_payments\n",
	}
	for name, want := range sqls {
		if got := p.Models[name].SQL; got != want {
			t.Errorf("%s SQL:\n%q\nwant\n%q", name, got, want)
		}
	}
}

func TestInjectCTEs(t *testing.T) {
	ctes := []string{"a as (\nx\n)", "b as (\ny\n)"}
	tests := []struct{ name, in, want string }{
		{"no with", "SELECT 1", "with a as (\nx\n), b as (\ny\n)\nSELECT 1"},
		{"with", "WITH c AS (SELECT 1) SELECT * FROM c", "WITH a as (\nx\n), b as (\ny\n), c AS (SELECT 1) SELECT * FROM c"},
		{"lower with after comments", "-- note\n/* block */ with c as (select 1) select 1",
			"-- note\n/* block */ with a as (\nx\n), b as (\ny\n), c as (select 1) select 1"},
		{"recursive", "WITH RECURSIVE r AS (SELECT 1) SELECT 1", "WITH RECURSIVE a as (\nx\n), b as (\ny\n), r AS (SELECT 1) SELECT 1"},
		{"withdrawals is not with", "withdrawals", "with a as (\nx\n), b as (\ny\n)\nwithdrawals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := injectCTEs(tt.in, ctes); got != tt.want {
				t.Fatalf("injectCTEs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
