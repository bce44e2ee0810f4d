package suite_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, file, content string
		is                  error
		prefix              string // the error must start with this
		contains            string
	}{
		{"unknown expectation json", "s.json", `{
  "expectation_suite_name": "leads",
  "expectations": [
    {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
    {
      "expectation_type": "expect_column_values_to_be_awesome",
      "kwargs": {"column": "id"}
    }
  ]
}`, expect.ErrUnknownExpectation, "s.json:6: suite leads: expectation #2 expect_column_values_to_be_awesome: ", "unknown expectation"},
		{"wrong kwarg json points at the kwarg", "s.json", `{"expectation_suite_name": "leads", "expectations": [
  {"expectation_type": "expect_column_values_to_match_regex",
   "kwargs": {
     "column": "email",
     "regexp": "@"}}]}`, expect.ErrKwarg, "s.json:5: suite leads: expectation #1 expect_column_values_to_match_regex: ", "kwarg regexp: unknown kwarg"},
		{"missing dbt argument", "schema.yml", "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: s\n        tests:\n          - accepted_values: {quote: false}\n",
			expect.ErrKwarg, "schema.yml:7: suite dbt:m: expectation #1 accepted_values (expect_column_values_to_be_in_set): ", "value_set: required"},
		{"missing kwarg yaml", "s.yaml", `expectation_suite_name: leads
expectations:
  - expectation_type: expect_column_values_to_match_regex
    kwargs:
      column: email
`, expect.ErrKwarg, "s.yaml:3: suite leads: expectation #1 expect_column_values_to_match_regex: ", "kwarg regex: required"},
		{"bad regex yaml", "s.yaml", `name: leads
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: {column: id}
  - type: expect_column_values_to_match_regex
    kwargs:
      column: email
      regex: "([a-z"
`, expect.ErrKwarg, "s.yaml:8: suite leads: expectation #2 expect_column_values_to_match_regex: ", "bad regex"},
		{"bad mostly", "s.yaml", `expectation_suite_name: leads
expectations:
  - expectation_type: expect_column_values_to_not_be_null
    kwargs:
      column: id
      mostly: 95
`, expect.ErrKwarg, "s.yaml:6: suite leads: expectation #1 expect_column_values_to_not_be_null: ", "mostly"},
		{"unknown top-level key", "s.yaml", "expectation_suite_name: leads\nexpectation: []\n", suite.ErrUnknownKey, "s.yaml:2: suite: key \"expectation\"", ""},
		{"typo in expectation key", "s.json", "{\"name\": \"x\", \"expectations\": [\n{\"type\": \"expect_column_to_exist\", \"kwarg\": {}}]}",
			suite.ErrUnknownKey, "s.json:2: suite x: expectation #1: key \"kwarg\"", ""},
		{"no name", "s.yaml", "expectations: []\n", suite.ErrInvalid, "s.yaml:1: suite name: want expectation_suite_name or name", ""},
		{"names differ", "s.yaml", "name: a\nexpectation_suite_name: b\nexpectations: []\n", suite.ErrInvalid, "s.yaml:1: suite name", "differ"},
		{"kwargs not a map", "s.yaml", "name: a\nexpectations:\n  - type: expect_column_to_exist\n    kwargs: [column]\n", suite.ErrInvalid, "s.yaml:4: suite a: expectation #1 expect_column_to_exist: kwargs", ""},
		{"json syntax", "s.json", "{\"name\": \"a\",\n \"expectations\": [,]}", suite.ErrSyntax, "s.json: syntax error: line 2", ""},
		{"json trailing data", "s.json", "{\"name\": \"a\", \"expectations\": []}\n{}", suite.ErrSyntax, "s.json: syntax error: line 2", ""},
		{"json duplicate key", "s.json", "{\"name\": \"a\",\n\"name\": \"b\", \"expectations\": []}", suite.ErrSyntax, "s.json: syntax error: line 2: duplicate key", ""},
		{"yaml syntax", "s.yaml", "name: [a\n", suite.ErrSyntax, "s.yaml: syntax error", ""},
		{"yaml duplicate key", "s.yaml", "name: a\nname: b\n", suite.ErrSyntax, "s.yaml: syntax error: line 2: duplicate key", ""},
		{"top is a list", "s.yaml", "- a\n", suite.ErrInvalid, "s.yaml:1: want a mapping", ""},
		{"dbt unknown test", "schema.yml", `version: 2
models:
  - name: stg_leads
    columns:
      - name: id
        tests:
          - not_null
          - is_awesome
`, expect.ErrUnknownExpectation, "schema.yml:8: suite dbt:stg_leads: expectation #2 is_awesome: ", "unsupported dbt test"},
		{"dbt bad relationship", "schema.yml", `version: 2
models:
  - name: stg_leads
    columns:
      - name: account_id
        tests:
          - relationships:
              to: stg_accounts
              field: id
`, expect.ErrKwarg, "schema.yml:8: suite dbt:stg_leads: expectation #1 relationships: ", "want ref('model')"},
		{"dbt wrong argument", "schema.yml", `version: 2
models:
  - name: stg_leads
    columns:
      - name: status
        tests:
          - accepted_values:
              valeus: [a]
`, expect.ErrKwarg, "schema.yml:8: suite dbt:stg_leads: expectation #1 accepted_values (expect_column_values_to_be_in_set): ", "kwarg valeus: unknown kwarg"},
		{"dbt unknown top key", "schema.yml", "version: 2\nmodel: []\n", suite.ErrUnknownKey, "schema.yml:2: dbt schema: key \"model\"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := suite.Parse(tc.file, []byte(tc.content))
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			if !strings.HasPrefix(err.Error(), tc.prefix) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("err = %q\nwant prefix %q containing %q", err, tc.prefix, tc.contains)
			}
		})
	}
}

func TestEveryBadExpectationReported(t *testing.T) {
	_, err := suite.Parse("s.yaml", []byte(`name: leads
expectations:
  - type: expect_nothing
  - type: expect_column_values_to_not_be_null
    kwargs: {column: id}
  - type: expect_column_values_to_be_between
    kwargs: {column: n}
`))
	msg := err.Error()
	if !strings.Contains(msg, "s.yaml:3: suite leads: expectation #1 expect_nothing") ||
		!strings.Contains(msg, "s.yaml:6: suite leads: expectation #3 expect_column_values_to_be_between") {
		t.Fatalf("err = %v; want both bad expectations named", err)
	}
}
