package expect_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

var update = flag.Bool("update", false, "rewrite golden files")

// leadsBatch is a window of the seed's leads model.
func leadsBatch() *expect.Batch {
	return &expect.Batch{
		Columns: []string{"id", "email", "status", "amount", "created_at"},
		Rows: []map[string]any{
			{"id": int64(1), "email": "ana@example.com", "status": "Won", "amount": rat("1500.50"), "created_at": time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
			{"id": int64(2), "email": "bad-email", "status": "Won", "amount": rat("99.90"), "created_at": time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)},
			{"id": int64(2), "email": nil, "status": "Lost", "amount": math.NaN(), "created_at": time.Date(2024, 5, 2, 9, 30, 0, 0, time.UTC)},
			{"id": int64(4), "email": "joao@empresa.com.br", "status": "Spam", "amount": nil, "created_at": nil},
		},
	}
}

func TestGoldenSuiteResult(t *testing.T) {
	es := []expect.Expectation{
		mustCompile(t, "expect_column_values_to_match_regex", kw{"column": "email", "regex": emailRegex}),
		mustCompile(t, "expect_column_values_to_not_be_null", kw{"column": "email", "mostly": 0.7}),
		mustCompile(t, "expect_column_values_to_be_in_set", kw{"column": "status", "value_set": []any{"Won", "Lost", "Open"}}),
		mustCompile(t, "expect_column_values_to_be_unique", kw{"column": "id"}),
		mustCompile(t, "expect_column_sum_to_be_between", kw{"column": "amount", "min_value": int64(1000), "max_value": int64(2000)}),
		mustCompile(t, "expect_table_row_count_to_be_between", kw{"min_value": int64(1)}),
		mustCompile(t, "expect_column_to_exist", kw{"column": "created_at"}),
		mustCompile(t, "expect_column_values_to_be_between", kw{"column": "amount", "min_value": int64(100), "row_condition": `status == "Won"`, "condition_parser": "pandas"}),
	}
	got, err := json.MarshalIndent(expect.Validate("leads.warning", es, leadsBatch()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "suite_result.golden.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Fatalf("suite result differs from %s (run with -update to accept):\n%s", path, got)
	}
}

func TestSuiteStatistics(t *testing.T) {
	r := expect.Validate("s", []expect.Expectation{
		mustCompile(t, "expect_column_values_to_not_be_null", kw{"column": "a"}),
		mustCompile(t, "expect_column_values_to_be_null", kw{"column": "a"}),
		mustCompile(t, "expect_column_to_exist", kw{"column": "a"}),
		mustCompile(t, "expect_column_to_exist", kw{"column": "b"}),
	}, column("a", int64(1)))
	st := r.Statistics
	if r.Success || st.EvaluatedExpectations != 4 || st.SuccessfulExpectations != 2 || st.UnsuccessfulExpectations != 2 ||
		st.SuccessPercent == nil || *st.SuccessPercent != 50 {
		t.Fatalf("statistics = %+v success %v", st, r.Success)
	}
	empty := expect.Validate("s", nil, column("a"))
	if !empty.Success || empty.Statistics.SuccessPercent != nil {
		t.Fatalf("empty suite = %+v", empty)
	}
}

func TestPartialListCappedAt20(t *testing.T) {
	var vals []any
	for i := range 30 {
		vals = append(vals, int64(i))
	}
	r := run(mustCompile(t, "expect_column_values_to_be_in_set", kw{"column": "a", "value_set": []any{}}), column("a", vals...))
	if r.Result.UnexpectedCount != 30 || len(r.Result.PartialUnexpectedList) != 20 || r.Result.PartialUnexpectedList[19] != int64(19) {
		t.Fatalf("count %d, partial %v", r.Result.UnexpectedCount, r.Result.PartialUnexpectedList)
	}
}

func TestMostlySemantics(t *testing.T) {
	e := mustCompile(t, "expect_column_values_to_be_between", kw{"column": "a", "min_value": int64(0), "mostly": 0.5})
	re := e.(expect.RowExpectation)
	if ok, v := re.Check(map[string]any{"a": int64(-1)}); ok || v != int64(-1) {
		t.Fatalf("Check ignores mostly: got ok=%v unexpected=%v", ok, v)
	}
	if ok, _ := re.Check(map[string]any{"a": nil}); !ok {
		t.Fatal("a null must pass a value expectation")
	}
	// 9 nulls, 1 bad, 1 good: 1/2 of non-null values pass; mostly ignores the nulls.
	vals := []any{int64(-1), int64(1)}
	for range 9 {
		vals = append(vals, nil)
	}
	r := run(e, column("a", vals...))
	near := func(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }
	if !r.Success || !near(r.Result.UnexpectedPercent, 50) || !near(r.Result.UnexpectedPercentTotal, 100.0/11) || !near(r.Result.MissingPercent, 900.0/11) {
		t.Fatalf("result = %+v", r.Result)
	}
	// Only nulls: vacuously successful, percentages over non-null are null.
	r = run(e, column("a", nil, nil))
	if !r.Success || r.Result.UnexpectedPercent != nil || roundTrip(t, r.Result)["unexpected_percent"] != nil {
		t.Fatalf("all-null result = %+v", r.Result)
	}
}

// panicky is a row expectation whose check panics.
type panicky struct{}

func (panicky) Config() expect.Config            { return expect.Config{Type: "expect_panic"} }
func (panicky) Level() expect.Level              { return expect.Row }
func (panicky) Column() string                   { return "a" }
func (panicky) Check(map[string]any) (bool, any) { panic("boom") }

func TestPanicBecomesExceptionInfo(t *testing.T) {
	r := expect.Validate("s", []expect.Expectation{panicky{}}, column("a", int64(1)))
	res := r.Results[0]
	if r.Success || res.ExceptionInfo == nil || !res.ExceptionInfo.RaisedException || *res.ExceptionInfo.ExceptionMessage != "boom" {
		t.Fatalf("result = %+v", res)
	}
}
