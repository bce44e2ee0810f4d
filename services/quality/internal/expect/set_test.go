package expect_test

import (
	"reflect"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

func TestSetMapExpectations(t *testing.T) {
	compound := &expect.Batch{Rows: []map[string]any{
		{"a": int64(1), "b": "x"}, {"a": int64(1), "b": "x"}, {"a": int64(1), "b": "y"},
		{"a": nil, "b": nil}, {"a": nil, "b": nil}, {"a": int64(1), "b": nil}, {"a": 1.0, "b": nil},
	}}
	runMapCases(t, []mapCase{
		{name: "unique flags every duplicate", typ: "expect_column_values_to_be_unique", kwargs: kw{"column": "a"},
			batch: column("a", int64(1), int64(2), 2.0, int64(3), nil, nil), success: false, unexpected: 2, missing: 2, partial: []any{int64(2), 2.0}},
		{name: "unique mostly", typ: "expect_column_values_to_be_unique", kwargs: kw{"column": "a", "mostly": 0.5},
			batch: column("a", "a", "b", "b", "c"), success: true, unexpected: 2},
		{name: "increasing", typ: "expect_column_values_to_be_increasing", kwargs: kw{"column": "a"},
			batch: column("a", int64(1), int64(2), int64(2), nil, int64(3), int64(1)), success: false, unexpected: 1, missing: 1, partial: []any{int64(1)}},
		{name: "strictly increasing", typ: "expect_column_values_to_be_increasing", kwargs: kw{"column": "a", "strictly": true},
			batch: column("a", int64(1), int64(2), int64(2), int64(3), int64(1)), success: false, unexpected: 2},
		{name: "increasing times", typ: "expect_column_values_to_be_increasing", kwargs: kw{"column": "a", "strictly": true},
			batch: column("a", day(2024, 1, 1), day(2024, 1, 2)), success: true},
		{name: "compound unique ignores all-null rows", typ: "expect_compound_columns_to_be_unique", kwargs: kw{"column_list": []any{"a", "b"}},
			batch: compound, success: false, unexpected: 4, missing: 2},
		{name: "compound unique ignoring any null", typ: "expect_compound_columns_to_be_unique",
			kwargs: kw{"column_list": []any{"a", "b"}, "ignore_row_if": "any_value_is_missing"}, batch: compound, success: false, unexpected: 2, missing: 4},
	})
}

func TestAggregates(t *testing.T) {
	nums := column("n", int64(4), int64(1), int64(3), int64(2), nil)
	cases := []struct {
		name     string
		typ      string
		kwargs   kw
		batch    *expect.Batch
		success  bool
		observed any
	}{
		{"min", "expect_column_min_to_be_between", kw{"column": "n", "min_value": int64(1)}, nums, true, int64(1)},
		{"min strict", "expect_column_min_to_be_between", kw{"column": "n", "min_value": int64(1), "strict_min": true}, nums, false, int64(1)},
		{"max", "expect_column_max_to_be_between", kw{"column": "n", "max_value": int64(3)}, nums, false, int64(4)},
		{"mean", "expect_column_mean_to_be_between", kw{"column": "n", "min_value": 2.5, "max_value": 2.5}, nums, true, 2.5},
		{"median even", "expect_column_median_to_be_between", kw{"column": "n", "min_value": 2.5, "max_value": 2.5}, nums, true, 2.5},
		{"median odd", "expect_column_median_to_be_between", kw{"column": "n", "max_value": int64(2)}, column("n", int64(9), int64(1), int64(2)), true, int64(2)},
		{"sum", "expect_column_sum_to_be_between", kw{"column": "n", "min_value": int64(10), "max_value": int64(10)}, nums, true, int64(10)},
		{"sum strict max", "expect_column_sum_to_be_between", kw{"column": "n", "max_value": int64(10), "strict_max": true}, nums, false, int64(10)},
		{"sum of decimals is exact", "expect_column_sum_to_be_between", kw{"column": "n", "min_value": 0.3, "max_value": 0.3},
			column("n", rat("0.1"), rat("0.2")), true, 0.3},
		{"max of dates", "expect_column_max_to_be_between", kw{"column": "n", "max_value": "2024-12-31"},
			column("n", day(2024, 1, 1), day(2025, 1, 1)), false, "2025-01-01T00:00:00Z"},
		{"empty window fails", "expect_column_mean_to_be_between", kw{"column": "n", "min_value": int64(0)}, column("n", nil), false, nil},
		{"distinct in set", "expect_column_distinct_values_to_be_in_set", kw{"column": "s", "value_set": []any{"a", "b", "c"}},
			column("s", "b", "a", "b", nil), true, []any{"a", "b"}},
		{"distinct not in set", "expect_column_distinct_values_to_be_in_set", kw{"column": "s", "value_set": []any{"a"}},
			column("s", "b", "a"), false, []any{"a", "b"}},
		{"unique value count", "expect_column_unique_value_count_to_be_between", kw{"column": "s", "min_value": int64(1), "max_value": int64(2)},
			column("s", "b", "a", "b", nil), true, int64(2)},
		{"row count", "expect_table_row_count_to_be_between", kw{"min_value": int64(2), "max_value": int64(3)}, nums, false, int64(5)},
		{"row count min only", "expect_table_row_count_to_be_between", kw{"min_value": int64(1)}, nums, true, int64(5)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(mustCompile(t, tc.typ, tc.kwargs), tc.batch)
			if r.Success != tc.success {
				t.Errorf("success = %v, want %v (observed %v)", r.Success, tc.success, r.Result.ObservedValue)
			}
			got := roundTrip(t, r.Result)["observed_value"]
			if !reflect.DeepEqual(got, roundTripValue(t, tc.observed)) {
				t.Errorf("observed_value = %#v, want %#v", got, tc.observed)
			}
		})
	}
}

func TestColumnToExist(t *testing.T) {
	b := &expect.Batch{Columns: []string{"id", "email"}, Rows: []map[string]any{{"id": int64(1)}}}
	inferred := &expect.Batch{Rows: []map[string]any{{"id": int64(1)}, {"phone": "x"}}}
	cases := []struct {
		name   string
		kwargs kw
		batch  *expect.Batch
		want   bool
	}{
		{"declared column", kw{"column": "email"}, b, true},
		{"absent column", kw{"column": "phone"}, b, false},
		{"at index", kw{"column": "email", "column_index": int64(1)}, b, true},
		{"wrong index", kw{"column": "email", "column_index": int64(0)}, b, false},
		{"columns from rows", kw{"column": "phone"}, inferred, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := mustCompile(t, "expect_column_to_exist", tc.kwargs)
			if e.Level() != expect.Table {
				t.Fatalf("level = %v, want table", e.Level())
			}
			if r := run(e, tc.batch); r.Success != tc.want {
				t.Errorf("success = %v, want %v", r.Success, tc.want)
			}
		})
	}
}

func TestRelationship(t *testing.T) {
	e := mustCompile(t, expect.RelationshipType, kw{"column": "account_id", "to_model": "accounts", "field": "id"})
	rel, ok := e.(expect.Relationship)
	if !ok || rel.ToModel() != "accounts" || rel.Field() != "id" {
		t.Fatalf("relationship accessors: %v %q %q", ok, rel.ToModel(), rel.Field())
	}
	b := column("account_id", int64(1), int64(2), 3.0, nil)
	if r := rel.Validate(b); r.ExceptionInfo == nil || !r.ExceptionInfo.RaisedException || r.Success {
		t.Fatalf("missing key set: want an exception, got %+v", r)
	}
	b.Lookup = map[string]map[string]bool{"accounts.id": {expect.Key(int64(1)): true, expect.Key(int64(3)): true}}
	r := rel.Validate(b)
	if r.Success || r.Result.UnexpectedCount != 1 || r.Result.MissingCount != 1 || !sameValues(r.Result.PartialUnexpectedList, []any{int64(2)}) {
		t.Fatalf("result = %+v", r.Result)
	}
}
