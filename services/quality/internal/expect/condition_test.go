package expect_test

import (
	"errors"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

func TestRowCondition(t *testing.T) {
	rows := []map[string]any{
		{"id": int64(1), "status": "Won", "amount": int64(10), "closed": day(2024, 5, 1), "vip": true},
		{"id": int64(2), "status": "Won", "amount": 3.5, "closed": nil, "vip": false},
		{"id": int64(3), "status": "Lost", "amount": int64(100), "closed": day(2023, 1, 1)},
		{"id": int64(4), "status": nil, "amount": nil},
		{"id": int64(5), "status": "Open", "amount": rat("7.25"), "closed": day(2024, 7, 1), "vip": true},
	}
	cases := []struct {
		parser, cond string
		want         []int64 // ids in the domain
	}{
		{"pandas", `status == "Won" and amount > 5`, []int64{1}},
		{"pandas", `status == 'Won' or amount >= 100`, []int64{1, 2, 3}},
		{"pandas", `not (status == "Won")`, []int64{3, 4, 5}},
		{"pandas", `status != "Won"`, []int64{3, 4, 5}},
		{"pandas", `status in ["Won", "Open"] & amount < 8`, []int64{2, 5}},
		{"pandas", `status not in ("Won",)`, []int64{3, 4, 5}},
		{"pandas", `amount.isnull() | closed.isna()`, []int64{2, 4}},
		{"pandas", `~amount.notnull()`, []int64{4}},
		{"pandas", `vip`, []int64{1, 5}},
		{"pandas", `vip == True and amount > 7.1`, []int64{1, 5}},
		{"pandas", `closed >= "2024-01-01"`, []int64{1, 5}},
		{"pandas", `5 < amount`, []int64{1, 3, 5}},
		{"pandas", `amount > -1e3 and id <= 2`, []int64{1, 2}},
		{"pandas", "`status` == \"Lost\"", []int64{3}},
		{"", `id == 3`, []int64{3}},
		{"great_expectations", `col("amount") > 5`, []int64{1, 3, 5}},
		{"great_expectations", `col("closed").notNull()`, []int64{1, 3, 5}},
		{"great_expectations__experimental__", `col("status")=="Won" AND col("amount")<5`, []int64{2}},
		{"sql", `"status" = 'Won' AND amount IS NOT NULL`, []int64{1, 2}},
		{"spark", `status <> 'Won'`, []int64{3, 5}},
		{"sql", `status IS NULL OR NOT vip`, []int64{2, 4}},
		{"sql", `status IN ('Lost', 'Open')`, []int64{3, 5}},
		{"sql", `status = 'it''s'`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.parser+" "+tc.cond, func(t *testing.T) {
			// A value expectation that fails every row shows the domain in its partial list.
			fail := mustCompile(t, "expect_column_values_to_be_in_set",
				kw{"column": "id", "value_set": []any{}, "row_condition": tc.cond, "condition_parser": tc.parser})
			r := run(fail, &expect.Batch{Rows: rows})
			var got []int64
			for _, v := range r.Result.PartialUnexpectedList {
				got = append(got, v.(int64))
			}
			if len(got) != len(tc.want) || r.Result.ElementCount != len(tc.want) {
				t.Fatalf("domain = %v (element_count %d), want %v", got, r.Result.ElementCount, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("domain = %v, want %v", got, tc.want)
				}
			}
			for _, row := range rows {
				if ok, _ := fail.(expect.RowExpectation).Check(row); ok == contains(tc.want, row["id"].(int64)) {
					t.Errorf("Check(id %v) = %v: rows outside the condition pass, inside fail", row["id"], ok)
				}
			}
		})
	}
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestRowConditionErrors(t *testing.T) {
	for _, cond := range []string{
		`status ==`, `status == "Won" and`, `(status == "Won"`, `status === 1`, `status == "Won)`,
		`amount.upper()`, `status in "Won"`, `"Won"`, `status @ 1`, `1 in [1]`, `status is 5`, `status not like 'x'`,
	} {
		t.Run(cond, func(t *testing.T) {
			_, err := expect.Compile(expect.Config{Type: "expect_column_values_to_not_be_null",
				Kwargs: kw{"column": "id", "row_condition": cond, "condition_parser": "pandas"}})
			var ce *expect.ConfigError
			if !errors.Is(err, expect.ErrKwarg) || !errors.As(err, &ce) || ce.Kwarg != "row_condition" {
				t.Fatalf("err = %v, want a row_condition kwarg error", err)
			}
		})
	}
	_, err := expect.Compile(expect.Config{Type: "expect_column_values_to_not_be_null",
		Kwargs: kw{"column": "id", "row_condition": "a == 1", "condition_parser": "cobol"}})
	if !errors.Is(err, expect.ErrKwarg) {
		t.Fatalf("unknown parser: err = %v", err)
	}
}
