package warehouse

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/riacho/riacho/services/metrics/internal/store"
)

func mustParse(t testing.TB, y string) *Schema {
	t.Helper()
	s, err := ParseSchema("m.yml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMigrate creates the tables twice (idempotent), checks their columns
// and keys, adds a newly declared column, and refuses drift.
func TestMigrate(t *testing.T) {
	dialects(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := mustParse(t, testSchemaYAML)
		for range 2 {
			if err := Migrate(ctx, st, s); err != nil {
				t.Fatal(err)
			}
		}
		cols, err := existingColumns(ctx, st, "dim_plans")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"plan_id": "text", "price": "numeric(10,2)", "tier": "text",
			"valid_from": "timestamp", "valid_to": "timestamp", "is_current": "boolean"}
		if len(cols) != len(want) {
			t.Errorf("dim_plans columns %v, want %v", cols, want)
		}
		for k, v := range want {
			if cols[k] != v {
				t.Errorf("dim_plans.%s is %q, want %q", k, cols[k], v)
			}
		}
		for table, pk := range map[string]string{"dim_plans": "plan_id,valid_from", "fct_orders": "order_id", "fct_events": "",
			"riacho_offsets": "consumer,topic,partition", "riacho_freshness": "table_name", "riacho_rejects": "topic,partition,offset"} {
			got, err := existingPrimaryKey(ctx, st, table)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != pk {
				t.Errorf("%s primary key %v, want %s", table, got, pk)
			}
		}
		fr, gen, err := ReadFreshness(ctx, st)
		if err != nil || gen != 0 || len(fr) != 0 {
			t.Errorf("freshness of an empty warehouse: %v %d %v", fr, gen, err)
		}

		// A new nullable column is added.
		added := strings.Replace(testSchemaYAML, "      - {name: tier, type: text}\n",
			"      - {name: tier, type: text}\n      - {name: launched, type: date}\n", 1)
		if err := Migrate(ctx, st, mustParse(t, added)); err != nil {
			t.Fatal(err)
		}
		if cols, _ := existingColumns(ctx, st, "dim_plans"); cols["launched"] != "date" {
			t.Errorf("launched not added: %v", cols)
		}

		drift := map[string]struct{ from, to, want string }{
			"type":        {"{name: qty, type: integer}", "{name: qty, type: bigint}", "column qty is integer in the warehouse, declared bigint"},
			"numeric":     {`{name: amount, type: "numeric(18,2)"}`, `{name: amount, type: "numeric(18,4)"}`, "column amount is numeric(18,2) in the warehouse, declared numeric(18,4)"},
			"undeclared":  {"      - {name: ratio, type: double}\n", "", "column ratio (double) is in the warehouse but not declared"},
			"key":         {"key: [order_id]", "key: [order_id, big]", "primary key is (order_id) in the warehouse, declared (order_id, big)"},
			"append-only": {"    key: [order_id]\n", "", "primary key is (order_id) in the warehouse, declared ()"},
		}
		for name, d := range drift {
			y := strings.Replace(added, d.from, d.to, 1)
			if y == added {
				t.Fatalf("%s: replacement did not apply", name)
			}
			err := Migrate(ctx, st, mustParse(t, y))
			if !errors.Is(err, ErrSchemaDrift) || !strings.Contains(err.Error(), d.want) || !strings.Contains(err.Error(), "table fct_orders (declared in m.yml:3)") {
				t.Errorf("%s: got %v, want ErrSchemaDrift with %q", name, err, d.want)
			}
		}
	})
}
