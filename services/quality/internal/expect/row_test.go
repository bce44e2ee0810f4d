package expect_test

import (
	"math"
	"testing"
	"time"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

const emailRegex = `^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`

func TestNullExpectations(t *testing.T) {
	runMapCases(t, []mapCase{
		{name: "not_null counts nulls as unexpected", typ: "expect_column_values_to_not_be_null", kwargs: kw{"column": "a"},
			batch: column("a", 1, nil, 3, math.NaN()), success: false, unexpected: 2, partial: []any{nil, nil}},
		{name: "not_null mostly over all rows", typ: "expect_column_values_to_not_be_null", kwargs: kw{"column": "a", "mostly": 0.5},
			batch: column("a", 1, nil, 3, nil), success: true, unexpected: 2},
		{name: "not_null missing column is null", typ: "expect_column_values_to_not_be_null", kwargs: kw{"column": "zz"},
			batch: column("a", 1), success: false, unexpected: 1},
		{name: "to_be_null", typ: "expect_column_values_to_be_null", kwargs: kw{"column": "a"},
			batch: column("a", nil, int64(1), nil), success: false, unexpected: 1, partial: []any{int64(1)}},
	})
}

func TestRegexExpectations(t *testing.T) {
	emails := column("email", "ana@example.com", "joao.silva@empresa.com.br", "not-an-email", nil)
	runMapCases(t, []mapCase{
		{name: "seed email example", typ: "expect_column_values_to_match_regex", kwargs: kw{"column": "email", "regex": emailRegex},
			batch: emails, success: false, unexpected: 1, missing: 1, partial: []any{"not-an-email"}},
		{name: "mostly over non-null passes at 2/3", typ: "expect_column_values_to_match_regex",
			kwargs: kw{"column": "email", "regex": emailRegex, "mostly": 0.66}, batch: emails, success: true, unexpected: 1, missing: 1},
		{name: "mostly over non-null fails above 2/3", typ: "expect_column_values_to_match_regex",
			kwargs: kw{"column": "email", "regex": emailRegex, "mostly": 0.67}, batch: emails, success: false, unexpected: 1, missing: 1},
		{name: "regex searches, not full match", typ: "expect_column_values_to_match_regex", kwargs: kw{"column": "a", "regex": "b+"},
			batch: column("a", "abc", "xyz"), success: false, unexpected: 1},
		{name: "numbers are matched as text", typ: "expect_column_values_to_match_regex", kwargs: kw{"column": "a", "regex": `^\d+$`},
			batch: column("a", int64(42), 4.5), success: false, unexpected: 1},
		{name: "not_match_regex", typ: "expect_column_values_to_not_match_regex", kwargs: kw{"column": "a", "regex": "^test"},
			batch: column("a", "test1", "prod", nil), success: false, unexpected: 1, missing: 1, partial: []any{"test1"}},
		{name: "regex_list any", typ: "expect_column_values_to_match_regex_list", kwargs: kw{"column": "a", "regex_list": []any{"^a", "^b"}},
			batch: column("a", "ax", "bx", "cx"), success: false, unexpected: 1},
		{name: "regex_list all", typ: "expect_column_values_to_match_regex_list",
			kwargs: kw{"column": "a", "regex_list": []any{"^a", "x$"}, "match_on": "all"},
			batch:  column("a", "ax", "ay", "bx"), success: false, unexpected: 2},
		{name: "not_match_regex_list", typ: "expect_column_values_to_not_match_regex_list",
			kwargs: kw{"column": "a", "regex_list": []any{"^a", "^b"}}, batch: column("a", "ax", "cx"), success: false, unexpected: 1},
	})
}

func TestSetMembership(t *testing.T) {
	runMapCases(t, []mapCase{
		{name: "in_set numbers compare by value", typ: "expect_column_values_to_be_in_set", kwargs: kw{"column": "a", "value_set": []any{int64(1), int64(2), 0.5}},
			batch: column("a", int64(1), 2.0, rat("0.5"), int64(4), "1", nil), success: false, unexpected: 2, missing: 1, partial: []any{int64(4), "1"}},
		{name: "in_set strings match dates", typ: "expect_column_values_to_be_in_set", kwargs: kw{"column": "d", "value_set": []any{"2024-01-01"}},
			batch: column("d", day(2024, 1, 1), day(2024, 1, 2)), success: false, unexpected: 1},
		{name: "not_in_set", typ: "expect_column_values_to_not_be_in_set", kwargs: kw{"column": "a", "value_set": []any{"x", "y"}},
			batch: column("a", "x", "z", nil), success: false, unexpected: 1, missing: 1},
		{name: "in_set mostly", typ: "expect_column_values_to_be_in_set", kwargs: kw{"column": "a", "value_set": []any{"Won", "Lost"}, "mostly": 0.75},
			batch: column("a", "Won", "Lost", "Won", "Open"), success: true, unexpected: 1},
	})
}

func TestBetween(t *testing.T) {
	nums := column("n", int64(0), int64(1), int64(10), int64(11), 5.5, nil)
	runMapCases(t, []mapCase{
		{name: "inclusive bounds", typ: "expect_column_values_to_be_between", kwargs: kw{"column": "n", "min_value": int64(1), "max_value": int64(10)},
			batch: nums, success: false, unexpected: 2, missing: 1, partial: []any{int64(0), int64(11)}},
		{name: "strict bounds", typ: "expect_column_values_to_be_between",
			kwargs: kw{"column": "n", "min_value": int64(1), "max_value": int64(10), "strict_min": true, "strict_max": true},
			batch:  nums, success: false, unexpected: 4, missing: 1},
		{name: "min only", typ: "expect_column_values_to_be_between", kwargs: kw{"column": "n", "min_value": int64(1), "max_value": nil},
			batch: nums, success: false, unexpected: 1, missing: 1},
		{name: "decimal against float bound is exact", typ: "expect_column_values_to_be_between",
			kwargs: kw{"column": "n", "min_value": 0.1, "strict_min": true}, batch: column("n", rat("0.1"), rat("0.10001")), success: false, unexpected: 1},
		{name: "times against date strings", typ: "expect_column_values_to_be_between",
			kwargs: kw{"column": "t", "min_value": "2024-01-01", "max_value": "2024-12-31T23:59:59Z"},
			batch:  column("t", day(2023, 12, 31), time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC), day(2025, 1, 1)), success: false, unexpected: 2},
		{name: "strings compare lexically", typ: "expect_column_values_to_be_between", kwargs: kw{"column": "s", "min_value": "b", "max_value": "d"},
			batch: column("s", "a", "b", "c", "e"), success: false, unexpected: 2},
		{name: "string dates parsed on request", typ: "expect_column_values_to_be_between",
			kwargs: kw{"column": "s", "min_value": "2024-01-01", "parse_strings_as_datetimes": true},
			batch:  column("s", "2024-03-01T10:00:00", "2023-03-01"), success: false, unexpected: 1},
		{name: "type mismatch is unexpected", typ: "expect_column_values_to_be_between", kwargs: kw{"column": "n", "max_value": int64(5)},
			batch: column("n", "3", true, int64(3)), success: false, unexpected: 2},
		{name: "lengths between", typ: "expect_column_value_lengths_to_be_between", kwargs: kw{"column": "s", "min_value": int64(2), "max_value": int64(3)},
			batch: column("s", "a", "ab", "ção", "abcd", int64(12), nil), success: false, unexpected: 3, missing: 1},
		{name: "lengths between strict", typ: "expect_column_value_lengths_to_be_between",
			kwargs: kw{"column": "s", "min_value": int64(2), "max_value": int64(3), "strict_max": true},
			batch:  column("s", "ab", "abc"), success: false, unexpected: 1},
		{name: "lengths equal", typ: "expect_column_value_lengths_to_equal", kwargs: kw{"column": "cep", "value": int64(8)},
			batch: column("cep", "01310100", "0131010", []byte("01310100")), success: false, unexpected: 1},
	})
}

func TestPair(t *testing.T) {
	rows := func(pairs ...[2]any) []map[string]any {
		var out []map[string]any
		for _, p := range pairs {
			out = append(out, map[string]any{"a": p[0], "b": p[1]})
		}
		return out
	}
	b := &expect.Batch{Rows: rows(
		[2]any{int64(2), int64(1)}, [2]any{int64(1), int64(1)}, [2]any{int64(1), 2.5},
		[2]any{nil, nil}, [2]any{int64(1), nil})}
	runMapCases(t, []mapCase{
		{name: "a greater than b", typ: "expect_column_pair_values_a_to_be_greater_than_b", kwargs: kw{"column_A": "a", "column_B": "b"},
			batch: b, success: false, unexpected: 3, missing: 1},
		{name: "or_equal", typ: "expect_column_pair_values_A_to_be_greater_than_B", kwargs: kw{"column_A": "a", "column_B": "b", "or_equal": true},
			batch: b, success: false, unexpected: 2, missing: 1},
		{name: "ignore either missing", typ: "expect_column_pair_values_a_to_be_greater_than_b",
			kwargs: kw{"column_A": "a", "column_B": "b", "or_equal": true, "ignore_row_if": "either_value_is_missing"},
			batch:  b, success: false, unexpected: 1, missing: 2},
	})
}
