package expect_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

func TestTypes(t *testing.T) {
	got := expect.Types()
	if !slices.IsSorted(got) {
		t.Fatalf("Types() not sorted: %v", got)
	}
	for _, want := range []string{
		"expect_column_values_to_not_be_null", "expect_column_values_to_be_null", "expect_column_values_to_be_unique",
		"expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex", "expect_column_values_to_match_regex_list",
		"expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set", "expect_column_values_to_be_between",
		"expect_column_value_lengths_to_be_between", "expect_column_value_lengths_to_equal", "expect_column_values_to_be_of_type",
		"expect_column_values_to_be_in_type_list", "expect_column_values_to_match_strftime_format",
		"expect_column_values_to_be_dateutil_parseable", "expect_column_values_to_be_json_parseable",
		"expect_column_values_to_be_increasing", "expect_table_row_count_to_be_between", "expect_column_to_exist",
		"expect_column_min_to_be_between", "expect_column_max_to_be_between", "expect_column_mean_to_be_between",
		"expect_column_median_to_be_between", "expect_column_sum_to_be_between", "expect_column_distinct_values_to_be_in_set",
		"expect_column_unique_value_count_to_be_between", "expect_compound_columns_to_be_unique",
		"expect_column_pair_values_a_to_be_greater_than_b", "expect_column_values_to_be_valid_cpf",
		"expect_column_values_to_be_valid_cnpj", "expect_column_values_to_be_valid_br_phone", "expect_column_values_to_be_valid_cep",
		expect.RelationshipType,
	} {
		if _, found := slices.BinarySearch(got, want); !found {
			t.Errorf("Types() lacks %s", want)
		}
	}
}

func TestLevels(t *testing.T) {
	cases := []struct {
		typ    string
		kwargs kw
		level  expect.Level
		column string
	}{
		{"expect_column_values_to_match_regex", kw{"column": "email", "regex": "@"}, expect.Row, "email"},
		{"expect_column_pair_values_a_to_be_greater_than_b", kw{"column_A": "a", "column_B": "b"}, expect.Row, ""},
		{"expect_column_values_to_be_unique", kw{"column": "id"}, expect.Set, "id"},
		{"expect_column_sum_to_be_between", kw{"column": "n", "min_value": int64(0)}, expect.Set, "n"},
		{"expect_compound_columns_to_be_unique", kw{"column_list": []any{"a", "b"}}, expect.Set, ""},
		{"expect_table_row_count_to_be_between", kw{"max_value": int64(9)}, expect.Table, ""},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			e := mustCompile(t, tc.typ, tc.kwargs)
			if e.Level() != tc.level || e.Column() != tc.column || e.Config().Type != tc.typ {
				t.Fatalf("level %v column %q type %q, want %v %q %q", e.Level(), e.Column(), e.Config().Type, tc.level, tc.column, tc.typ)
			}
			_, isRow := e.(expect.RowExpectation)
			_, isSet := e.(expect.SetExpectation)
			if isRow != (tc.level == expect.Row) || isSet == (tc.level == expect.Row) {
				t.Fatalf("row %v set %v for level %v", isRow, isSet, tc.level)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name   string
		typ    string
		kwargs kw
		is     error
		kwarg  string
		msg    string
	}{
		{"unknown expectation", "expect_column_values_to_be_awesome", kw{"column": "a"}, expect.ErrUnknownExpectation, "", "unknown expectation"},
		{"missing column", "expect_column_values_to_not_be_null", kw{}, expect.ErrKwarg, "column", "required"},
		{"unknown kwarg", "expect_column_values_to_not_be_null", kw{"column": "a", "colum": "b"}, expect.ErrKwarg, "colum", "unknown kwarg"},
		{"wrong kwarg type", "expect_column_values_to_match_regex", kw{"column": "a", "regex": int64(5)}, expect.ErrKwarg, "regex", "want a string"},
		{"bad regex", "expect_column_values_to_match_regex", kw{"column": "a", "regex": "(unclosed"}, expect.ErrKwarg, "regex", "bad regex"},
		{"python-only regex", "expect_column_values_to_match_regex", kw{"column": "a", "regex": "(?<=x)y"}, expect.ErrKwarg, "regex", "bad regex"},
		{"mostly above one", "expect_column_values_to_not_be_null", kw{"column": "a", "mostly": 1.5}, expect.ErrKwarg, "mostly", "between 0 and 1"},
		{"mostly not a number", "expect_column_values_to_not_be_null", kw{"column": "a", "mostly": "most"}, expect.ErrKwarg, "mostly", "between 0 and 1"},
		{"no bounds", "expect_column_values_to_be_between", kw{"column": "a"}, expect.ErrKwarg, "min_value", "cannot both be null"},
		{"bound is a list", "expect_column_values_to_be_between", kw{"column": "a", "min_value": []any{1}}, expect.ErrKwarg, "min_value", "want a number"},
		{"strict not bool", "expect_column_values_to_be_between", kw{"column": "a", "min_value": int64(1), "strict_min": "yes"}, expect.ErrKwarg, "strict_min", "true or false"},
		{"value_set missing", "expect_column_values_to_be_in_set", kw{"column": "a"}, expect.ErrKwarg, "value_set", "required"},
		{"value_set not list", "expect_column_values_to_be_in_set", kw{"column": "a", "value_set": "abc"}, expect.ErrKwarg, "value_set", "want a list"},
		{"suite parameter", "expect_column_values_to_be_in_set", kw{"column": "a", "value_set": kw{"$PARAMETER": "x"}}, expect.ErrKwarg, "value_set", "suite parameters"},
		{"unknown type name", "expect_column_values_to_be_of_type", kw{"column": "a", "type_": "quaternion"}, expect.ErrKwarg, "type_", "unknown type"},
		{"bad strftime directive", "expect_column_values_to_match_strftime_format", kw{"column": "a", "strftime_format": "%Q"}, expect.ErrKwarg, "strftime_format", "bad directive"},
		{"stray percent", "expect_column_values_to_match_strftime_format", kw{"column": "a", "strftime_format": "%Y%"}, expect.ErrKwarg, "strftime_format", "stray"},
		{"length bound not integer", "expect_column_value_lengths_to_be_between", kw{"column": "a", "min_value": 1.5}, expect.ErrKwarg, "min_value", "integers"},
		{"match_on", "expect_column_values_to_match_regex_list", kw{"column": "a", "regex_list": []any{"x"}, "match_on": "most"}, expect.ErrKwarg, "match_on", "any or all"},
		{"ignore_row_if", "expect_column_pair_values_a_to_be_greater_than_b", kw{"column_A": "a", "column_B": "b", "ignore_row_if": "sometimes"}, expect.ErrKwarg, "ignore_row_if", "want"},
		{"relationship without field", expect.RelationshipType, kw{"column": "a", "to_model": "m"}, expect.ErrKwarg, "field", "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := expect.Compile(expect.Config{Type: tc.typ, Kwargs: tc.kwargs, Source: "suites/leads.json:7"})
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			var ce *expect.ConfigError
			if !errors.As(err, &ce) || ce.Kwarg != tc.kwarg || ce.Type != tc.typ {
				t.Fatalf("ConfigError = %+v, want kwarg %q", ce, tc.kwarg)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "suites/leads.json:7: "+tc.typ+": ") || !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q lacks the source, the type or %q", msg, tc.msg)
			}
		})
	}
}

func TestIgnoredGEKwargs(t *testing.T) {
	mustCompile(t, "expect_column_values_to_not_be_null", kw{"column": "a", "result_format": "SUMMARY",
		"catch_exceptions": true, "include_config": true, "meta": kw{"x": int64(1)}, "notes": "n", "batch_id": "b"})
}
