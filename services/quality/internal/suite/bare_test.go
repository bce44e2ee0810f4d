package suite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// seedExample is the dict the seed's test_leads_email_format returns, as a
// file of its own.
const seedExample = `{
    "expectation_type": "expect_column_values_to_match_regex",
    "kwargs": {
        "column": "email",
        "regex": "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$"
    }
}
`

func TestBareExpectationFileIsASuite(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"stg_ploomes_leads.json": seedExample,
		"other.yaml":             "type: expect_column_values_to_not_be_null\nkwargs: {column: id}\nmeta: {riacho: {model: stg_accounts}}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	suites, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 2 {
		t.Fatalf("%d suites, want 2", len(suites))
	}
	byName := map[string]Suite{}
	for _, s := range suites {
		byName[s.Name] = s
	}
	seed, other := byName["stg_ploomes_leads"], byName["other"]
	if seed.Model != "stg_ploomes_leads" || len(seed.Expectations) != 1 || other.Model != "stg_accounts" {
		t.Fatalf("suites %+v", suites)
	}
	re := seed.Expectations[0].(expect.RowExpectation)
	for email, want := range map[string]bool{"ana@exemplo.com.br": true, "not-an-email": false, "conceição@exemplo.com.br": false} {
		if ok, _ := re.Check(map[string]any{"email": email}); ok != want {
			t.Errorf("%q: ok %v, want %v", email, ok, want)
		}
	}
	if _, err := Parse("bad.json", []byte(`{"expectation_type": "expect_column_values_to_match_regex", "kwargs": {"column": "email", "regex": "("}}`)); err == nil {
		t.Error("a bare expectation with a bad regex loaded")
	}
}
