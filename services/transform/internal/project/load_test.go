package project

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestEphemeralChain(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"dbt_project.yml":   "name: chain\nmodels:\n  chain:\n    eph:\n      +materialized: ephemeral\n",
		"models/s.yml":      "sources:\n  - name: app\n    tables:\n      - name: events\n",
		"models/eph/e2.sql": "SELECT * FROM {{ source('app', 'events') }}\n",
		"models/eph/e1.sql": "SELECT id FROM {{ ref('e2') }}\n",
		"models/m.sql":      "-- counts\nSELECT COUNT(*) FROM {{ ref('chain', 'e1') }} JOIN {{ ref('e2') }} USING (id)\n",
	})
	p := mustLoad(t, dir, Options{})
	m := p.Models["m"]
	want := "with __dbt__cte__e2 as (\nSELECT * FROM \"src__app__events\"\n), " +
		"__dbt__cte__e1 as (\nSELECT id FROM __dbt__cte__e2\n)\n" +
		"-- counts\nSELECT COUNT(*) FROM __dbt__cte__e1 JOIN __dbt__cte__e2 USING (id)\n"
	if m.SQL != want {
		t.Errorf("SQL:\n%q\nwant\n%q", m.SQL, want)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Name != "app.events" {
		t.Errorf("Inputs = %+v, want only app.events (through both ephemeral models, once)", m.Inputs)
	}
	if !slices.Equal(m.DependsOn, []string{"e1", "e2"}) {
		t.Errorf("DependsOn = %v, want [e1 e2]", m.DependsOn)
	}
	if got := modelNames(p.Order); !slices.Equal(got, []string{"m"}) {
		t.Errorf("Order = %v, want [m]", got)
	}
	if e1 := p.Models["e1"]; e1.SQL != "with __dbt__cte__e2 as (\nSELECT * FROM \"src__app__events\"\n)\nSELECT id FROM __dbt__cte__e2\n" {
		t.Errorf("e1 compiles alone to %q", e1.SQL)
	}
}

func TestVarValues(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"dbt_project.yml": "name: v\nvars:\n  d: {b: 1, a: [x, 2.5, null, true]}\n  s: 'it''s'\n",
		"models/m.sql":    "{{ var('d') }} {{ var('s') }} {{ var('o') }} {{ var('u') }}",
	})
	p := mustLoad(t, dir, Options{Vars: map[string]any{"o": map[string]string{"z": "1", "y": "2"}, "u": uint8(7)}})
	want := "{'a': ['x', 2.5, None, True], 'b': 1} it's {'y': '2', 'z': '1'} 7"
	if got := p.Models["m"].SQL; got != want {
		t.Fatalf("SQL = %q, want %q", got, want)
	}
	_, err := Load(dir, Options{Vars: map[string]any{"o": struct{}{}, "u": 1}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "m.sql:1:34: ") {
		t.Fatalf("var of an unsupported Go type: %v, want ErrInvalid at m.sql:1:34", err)
	}
}

func TestIgnoresOtherFiles(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"models/a.sql":         "SELECT 1\n",
		"models/README.md":     "# notes {{ not a template }}",
		"models/.hidden/b.sql": "{{ broken",
		"models/.c.sql":        "{{ broken",
		"analyses/x.sql":       "{{ broken",
	})
	p := mustLoad(t, dir, Options{})
	if len(p.Models) != 1 || p.Models["a"] == nil {
		t.Fatalf("Models = %v, want only a", p.Models)
	}
}

func TestModelPaths(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"dbt_project.yml":    "name: mp\nmodel-paths: [sql, more]\nmodels:\n  mp:\n    marts:\n      +materialized: table\n",
		"sql/marts/a.sql":    "SELECT 1\n",
		"more/b.sql":         "SELECT * FROM {{ ref('a') }}\n",
		"models/ignored.sql": "{{ broken",
	})
	p := mustLoad(t, dir, Options{})
	if got := modelNames(p.Order); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Order = %v, want [a b]", got)
	}
	if p.Models["a"].Config.Materialized != "table" || p.Models["a"].Path != "sql/marts/a.sql" {
		t.Fatalf("a = %+v: folder config is relative to its model path", p.Models["a"])
	}
}
