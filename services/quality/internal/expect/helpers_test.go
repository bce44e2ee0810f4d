package expect_test

import (
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// mustCompile compiles one expectation or fails the test.
func mustCompile(t testing.TB, typ string, kw map[string]any) expect.Expectation {
	t.Helper()
	e, err := expect.Compile(expect.Config{Type: typ, Kwargs: kw})
	if err != nil {
		t.Fatalf("compile %s: %v", typ, err)
	}
	return e
}

// column builds a batch with one column holding vals.
func column(name string, vals ...any) *expect.Batch {
	b := &expect.Batch{Columns: []string{name}}
	for _, v := range vals {
		b.Rows = append(b.Rows, map[string]any{name: v})
	}
	return b
}

// run evaluates e over b the way Validate does.
func run(e expect.Expectation, b *expect.Batch) expect.Result {
	if s, ok := e.(expect.SetExpectation); ok {
		return s.Validate(b)
	}
	return expect.ValidateRow(e.(expect.RowExpectation), b)
}

// kw is shorthand for a kwargs map.
type kw = map[string]any

// rat parses a decimal.
func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

// day returns a date at midnight UTC.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// mapCase is a column map expectation case.
type mapCase struct {
	name       string
	typ        string
	kwargs     kw
	batch      *expect.Batch
	success    bool
	unexpected int
	missing    int
	partial    []any // checked when non-nil
}

// runMapCases checks counts, success and the partial list, and that Check
// agrees with the window result row by row.
func runMapCases(t *testing.T, cases []mapCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := mustCompile(t, tc.typ, tc.kwargs)
			r := run(e, tc.batch)
			if r.Success != tc.success {
				t.Errorf("success = %v, want %v (result %+v)", r.Success, tc.success, r.Result)
			}
			if r.Result.UnexpectedCount != tc.unexpected {
				t.Errorf("unexpected_count = %d, want %d (partial %v)", r.Result.UnexpectedCount, tc.unexpected, r.Result.PartialUnexpectedList)
			}
			if r.Result.MissingCount != tc.missing {
				t.Errorf("missing_count = %d, want %d", r.Result.MissingCount, tc.missing)
			}
			if tc.partial != nil && !sameValues(r.Result.PartialUnexpectedList, tc.partial) {
				t.Errorf("partial_unexpected_list = %v, want %v", r.Result.PartialUnexpectedList, tc.partial)
			}
			if re, ok := e.(expect.RowExpectation); ok && e.Level() == expect.Row {
				failed := 0
				for _, row := range tc.batch.Rows {
					if ok, _ := re.Check(row); !ok {
						failed++
					}
				}
				if failed != tc.unexpected {
					t.Errorf("Check failed %d rows, window counted %d unexpected", failed, tc.unexpected)
				}
			}
		})
	}
}

// sameValues compares two value lists by canonical key.
func sameValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) || expect.Key(a[i]) != expect.Key(b[i]) {
			return false
		}
	}
	return true
}

// roundTrip marshals v to JSON and back into a map.
func roundTrip(t testing.TB, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
	return m
}

// roundTripValue returns v as it reads back from JSON.
func roundTripValue(t testing.TB, v any) any {
	return roundTrip(t, map[string]any{"v": v})["v"]
}
