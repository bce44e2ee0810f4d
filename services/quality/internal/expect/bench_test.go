package expect_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// rowSuite is a 10-expectation row-level suite over the leads model.
func rowSuite(tb testing.TB) []expect.RowExpectation {
	cfgs := []struct {
		typ string
		kw  kw
	}{
		{"expect_column_values_to_not_be_null", kw{"column": "id"}},
		{"expect_column_values_to_match_regex", kw{"column": "email", "regex": emailRegex}},
		{"expect_column_values_to_be_in_set", kw{"column": "status", "value_set": []any{"Won", "Lost", "Open"}}},
		{"expect_column_values_to_be_between", kw{"column": "amount", "min_value": int64(0), "max_value": int64(1_000_000)}},
		{"expect_column_value_lengths_to_be_between", kw{"column": "name", "min_value": int64(2), "max_value": int64(120)}},
		{"expect_column_values_to_be_valid_cpf", kw{"column": "cpf"}},
		{"expect_column_values_to_be_valid_br_phone", kw{"column": "phone"}},
		{"expect_column_values_to_be_valid_cep", kw{"column": "cep"}},
		{"expect_column_values_to_be_of_type", kw{"column": "created_at", "type_": "timestamp"}},
		{"expect_column_values_to_not_be_null", kw{"column": "amount", "row_condition": `status == "Won" and amount > 5`, "condition_parser": "pandas"}},
	}
	out := make([]expect.RowExpectation, len(cfgs))
	for i, c := range cfgs {
		out[i] = mustCompile(tb, c.typ, c.kw).(expect.RowExpectation)
	}
	return out
}

// leadRows returns n lead records, one in ten with a bad email.
func leadRows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		email := fmt.Sprintf("lead%d@empresa.com.br", i)
		if i%10 == 0 {
			email = "no-at-sign"
		}
		rows[i] = map[string]any{
			"id": int64(i), "email": email, "status": []string{"Won", "Lost", "Open"}[i%3], "amount": float64(i % 5000),
			"name": "Maria da Silva", "cpf": "52998224725", "phone": "+5511987654321", "cep": "01310-100",
			"created_at": time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		}
	}
	return rows
}

// BenchmarkCheckSuite10 measures the gate's per-record decision: all ten
// row expectations checked on one record (ns/op is ns/record).
func BenchmarkCheckSuite10(b *testing.B) {
	suite := rowSuite(b)
	rows := leadRows(1024)
	b.ReportAllocs()
	b.ResetTimer()
	failed := 0
	for i := 0; i < b.N; i++ {
		row := rows[i&1023]
		for _, e := range suite {
			if ok, _ := e.Check(row); !ok {
				failed++
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if failed == 0 {
		b.Fatal("no record failed; the bad emails were not caught")
	}
}

// BenchmarkValidateWindow measures GE results for a 10,000-record window
// of the same suite plus unique and aggregate expectations (ns/op per window).
func BenchmarkValidateWindow(b *testing.B) {
	es := make([]expect.Expectation, 0, 13)
	for _, e := range rowSuite(b) {
		es = append(es, e)
	}
	es = append(es,
		mustCompile(b, "expect_column_values_to_be_unique", kw{"column": "id"}),
		mustCompile(b, "expect_column_mean_to_be_between", kw{"column": "amount", "min_value": int64(0)}),
		mustCompile(b, "expect_table_row_count_to_be_between", kw{"min_value": int64(1)}))
	batch := &expect.Batch{Rows: leadRows(10_000)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := expect.Validate("leads", es, batch); r.Statistics.EvaluatedExpectations != len(es) {
			b.Fatal("not every expectation evaluated")
		}
	}
	b.ReportMetric(float64(b.N)*10_000/b.Elapsed().Seconds(), "records/s")
}
