package metricdef

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSeedFile(t *testing.T) {
	data, err := os.ReadFile("testdata/mrr.yml")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := ParseFile("testdata/mrr.yml", data)
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	want := []Metric{{
		Name:              "mrr",
		Label:             "Monthly Recurring Revenue",
		Model:             "fct_subscriptions",
		Description:       "Total de receita recorrente mensal",
		CalculationMethod: "sum",
		Expression:        "monthly_value",
		Timestamp:         "date_month",
		TimeGrains:        []string{"month", "quarter", "year"},
		Dimensions:        []string{"customer_segment", "product_category"},
		Filters:           []Filter{{Field: "is_active", Operator: "=", Value: "true", Kind: "bool"}},
		Enabled:           true,
		File:              "testdata/mrr.yml",
		Line:              5,
	}}
	if !reflect.DeepEqual(ms, want) {
		t.Fatalf("got %+v\nwant %+v", ms, want)
	}
	loaded, err := LoadDir("testdata")
	if err != nil || !reflect.DeepEqual(loaded, want) {
		t.Fatalf("LoadDir = %+v, %v", loaded, err)
	}
}

func TestParseFileForms(t *testing.T) {
	tests := []struct {
		name, src string
		want      Metric
	}{
		{"older type/sql", `
models: [{name: x}]
metrics:
  - name: orders
    label: Orders
    model: ref("fct_orders")
    type: count
    sql: order_id
    timestamp: created_at
    time_grains: [day, all_time]
    window: {count: 14, period: day}
    filters:
      - {field: amount, operator: '>=', value: 10.5}
      - {field: status, operator: not in, value: "('a','b')"}
      - {field: deleted_at, operator: is, value: null}
    meta: {owner: ana}
    config: {enabled: false}
    tags: [core]
`, Metric{Name: "orders", Label: "Orders", Model: "fct_orders", CalculationMethod: "count",
			Expression: "order_id", Timestamp: "created_at", TimeGrains: []string{"day", "all_time"},
			Window: &Window{Count: 14, Period: "day"},
			Filters: []Filter{{"amount", ">=", "10.5", "number"}, {"status", "not in", "('a','b')", "string"},
				{"deleted_at", "is", "null", "null"}},
			Meta: map[string]any{"owner": "ana"}, Enabled: false, Tags: []string{"core"}, File: "f.yml", Line: 4}},
		{"both spellings equal", `
metrics:
  - {name: a, label: A, model: "ref('m')", calculation_method: max, type: max, expression: x, sql: x}
`, Metric{Name: "a", Label: "A", Model: "m", CalculationMethod: "max", Expression: "x", Enabled: true, File: "f.yml", Line: 3}},
		{"derived", `
metrics:
  - name: arpu
    label: ARPU
    calculation_method: derived
    expression: "mrr / nullif(active_customers, 0)"
`, Metric{Name: "arpu", Label: "ARPU", CalculationMethod: "derived", Expression: "mrr / nullif(active_customers, 0)",
			Enabled: true, File: "f.yml", Line: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := ParseFile("f.yml", []byte(tc.src))
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if len(ms) != 1 || !reflect.DeepEqual(ms[0], tc.want) {
				t.Fatalf("got %+v\nwant %+v", ms, tc.want)
			}
		})
	}
}

func TestDependsOn(t *testing.T) {
	m := Metric{Name: "arpu", CalculationMethod: "derived", Expression: "mrr / nullif(active_customers, 0) + mrr * 'churn'"}
	known := map[string]bool{"mrr": true, "active_customers": true, "churn": true, "arpu": true}
	if got, want := DependsOn(m, known), []string{"active_customers", "mrr"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("DependsOn = %v, want %v", got, want)
	}
	if got := DependsOn(Metric{Name: "x", CalculationMethod: "sum", Expression: "mrr"}, known); got != nil {
		t.Fatalf("non-derived DependsOn = %v", got)
	}
}

const base = "metrics:\n  - name: m\n    label: M\n"

func TestValidationErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"missing name", "metrics:\n  - label: M\n    model: ref('t')\n    calculation_method: sum\n    expression: x\n", "f.yml:2: metric ?: name: required"},
		{"bad name", "metrics:\n  - name: 1m\n    label: M\n    model: ref('t')\n    calculation_method: sum\n    expression: x\n", "f.yml:2: metric 1m: name: must start"},
		{"long name", "metrics:\n  - name: " + strings.Repeat("a", 251) + "\n    label: M\n    model: ref('t')\n    calculation_method: sum\n    expression: x\n", "f.yml:2: metric a"},
		{"missing label", "metrics:\n  - name: m\n    model: ref('t')\n    calculation_method: sum\n    expression: x\n", "f.yml:2: metric m: label: required"},
		{"missing method", base + "    model: ref('t')\n    expression: x\n", "f.yml:2: metric m: calculation_method: required"},
		{"missing model", base + "    calculation_method: sum\n    expression: x\n", "f.yml:2: metric m: model: required"},
		{"missing expression", base + "    model: ref('t')\n    calculation_method: sum\n", "f.yml:2: metric m: expression: required"},
		{"bad model", base + "    model: fct\n    calculation_method: sum\n    expression: x\n", "f.yml:4: metric m: model: \"fct\" is not ref('model')"},
		{"unknown method", base + "    model: ref('t')\n    calculation_method: mode\n    expression: x\n", "f.yml:5: metric m: calculation_method: unknown method \"mode\""},
		{"type and method differ", base + "    model: ref('t')\n    calculation_method: sum\n    type: max\n    expression: x\n", "f.yml:6: metric m: calculation_method: type \"max\" differs"},
		{"sql and expression differ", base + "    model: ref('t')\n    calculation_method: sum\n    expression: x\n    sql: y\n", "f.yml:7: metric m: expression: sql \"y\" differs"},
		{"grains without timestamp", base + "    model: ref('t')\n    calculation_method: sum\n    expression: x\n    time_grains: [day]\n", "f.yml:7: metric m: time_grains: needs a timestamp"},
		{"unknown grain", base + "    model: ref('t')\n    calculation_method: sum\n    expression: x\n    timestamp: ts\n    time_grains: [hour]\n", "f.yml:8: metric m: time_grains: unknown grain \"hour\""},
		{"window without timestamp", base + "    model: ref('t')\n    calculation_method: sum\n    expression: x\n    window: {count: 3, period: month}\n", "f.yml:7: metric m: window: needs a timestamp"},
		{"derived with model", base + "    model: ref('t')\n    calculation_method: derived\n    expression: a + b\n", "f.yml:4: metric m: model: derived metrics have no model"},
		{"derived without expression", base + "    calculation_method: derived\n", "f.yml:2: metric m: expression: required for derived metrics"},
		{"bad operator", base + "    model: ref('t')\n    calculation_method: sum\n    expression: x\n    filters:\n      - {field: a, operator: '==', value: 1}\n", "f.yml:8: metric m: filters: unknown operator \"==\""},
		{"unknown key", base + "    model: ref('t')\n    calculation_method: sum\n    expression: x\n    sqll: y\n", "f.yml:7: metric m: sqll: unknown field"},
		{"duplicate in file", base + "    model: ref('t')\n    calculation_method: sum\n    expression: x\n  - {name: m, label: M, model: \"ref('t')\", calculation_method: sum, expression: x}\n", "f.yml:7: metric m: name: duplicate of line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("f.yml", []byte(tc.src))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadDirDuplicatesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	one := "metrics:\n  - {name: m, label: M, model: \"ref('t')\", calculation_method: sum, expression: x}\n"
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.yml", "sub/b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("version: 2\n"+one), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := LoadDir(dir)
	want := filepath.Join(dir, "sub/b.yaml") + ":3: metric m: name: duplicate of " + filepath.Join(dir, "a.yml") + ":3"
	if err == nil || !strings.Contains(err.Error(), want) || len(ms) != 1 {
		t.Fatalf("LoadDir = %d metrics, %v; want error %q", len(ms), err, want)
	}
}

func FuzzParseFile(f *testing.F) {
	seed, _ := os.ReadFile("testdata/mrr.yml")
	f.Add(seed)
	f.Add([]byte(base + "    calculation_method: derived\n    expression: a\n    window: [1]\n    config: {enabled: 3}\n"))
	f.Add([]byte("metrics: 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseFile("fuzz.yml", data)
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
