package suite_test

import (
	"path/filepath"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

func TestDBTSchema(t *testing.T) {
	suites, err := suite.LoadFile(filepath.Join("testdata", "suites", "schema.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 1 {
		t.Fatalf("got %d suites; models without tests must not make suites", len(suites))
	}
	s := suites[0]
	if s.Name != "dbt:stg_leads" || s.Model != "stg_leads" {
		t.Fatalf("suite %q model %q", s.Name, s.Model)
	}
	want := []struct{ typ, column, test string }{
		{"expect_compound_columns_to_be_unique", "", "dbt_utils.unique_combination_of_columns"},
		{"expect_column_values_to_not_be_null", "id", "not_null"},
		{"expect_column_values_to_be_unique", "id", "unique"},
		{"expect_column_values_to_be_in_set", "status", "accepted_values"},
		{expect.RelationshipType, "account_id", "relationships"},
		{"expect_column_values_to_match_regex", "email", "dbt_expectations.expect_column_values_to_match_regex"},
	}
	if len(s.Expectations) != len(want) {
		t.Fatalf("got %d expectations, want %d (the disabled test is skipped)", len(s.Expectations), len(want))
	}
	for i, w := range want {
		c := s.Expectations[i].Config()
		if c.Type != w.typ || s.Expectations[i].Column() != w.column || c.Meta["dbt_test"] != w.test {
			t.Errorf("#%d = %s on %q (%v), want %s on %q", i+1, c.Type, s.Expectations[i].Column(), c.Meta["dbt_test"], w.typ, w.column)
		}
	}
	accepted := s.Expectations[3].Config()
	if accepted.Meta["severity"] != "warn" || accepted.Kwargs["row_condition"] != "amount > 0" || accepted.Kwargs["condition_parser"] != "sql" {
		t.Fatalf("accepted_values config not carried: %+v", accepted)
	}
	rel := s.Expectations[4].(expect.Relationship)
	if rel.ToModel() != "stg_accounts" || rel.Field() != "id" {
		t.Fatalf("relationship to %s.%s", rel.ToModel(), rel.Field())
	}

	b := &expect.Batch{
		Rows: []map[string]any{
			{"id": int64(1), "source": "ploomes", "source_id": "a", "status": "Won", "amount": int64(10), "account_id": int64(7), "email": "a@x"},
			{"id": int64(1), "source": "ploomes", "source_id": "a", "status": "Spam", "amount": int64(0), "account_id": int64(8), "email": "b@x"},
			{"id": nil, "source": "sap", "source_id": "a", "status": "Spam", "amount": int64(5), "account_id": nil, "email": "nope"},
		},
		Lookup: map[string]map[string]bool{"stg_accounts.id": {expect.Key(int64(7)): true}},
	}
	r := expect.Validate(s.Name, s.Expectations, b)
	wantUnexpected := []int{2, 1, 2, 1, 1, 1}
	for i, res := range r.Results {
		if res.Success || res.Result.UnexpectedCount != wantUnexpected[i] {
			t.Errorf("%s: success %v unexpected %d, want false %d", res.ExpectationConfig.Type, res.Success, res.Result.UnexpectedCount, wantUnexpected[i])
		}
	}
}
