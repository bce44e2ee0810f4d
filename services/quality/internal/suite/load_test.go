package suite_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

const emailRegex = `^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`

// emailRows holds two good emails, one bad and one null.
func emailRows() *expect.Batch {
	return &expect.Batch{Rows: []map[string]any{
		{"email": "ana@example.com"}, {"email": "joao.silva@empresa.com.br"}, {"email": "not-an-email"}, {"email": nil},
	}}
}

// TestSeedEmailExample loads the seed's example in every accepted form and
// checks it catches the bad email and only it.
func TestSeedEmailExample(t *testing.T) {
	for _, file := range []string{"leads.json", "leads.yaml", "leads_gx1.json"} {
		t.Run(file, func(t *testing.T) {
			suites, err := suite.LoadFile(filepath.Join("testdata", "suites", file))
			if err != nil {
				t.Fatal(err)
			}
			if len(suites) != 1 {
				t.Fatalf("got %d suites", len(suites))
			}
			e := suites[0].Expectations[0]
			if e.Config().Type != "expect_column_values_to_match_regex" || e.Config().Kwargs["regex"] != emailRegex {
				t.Fatalf("first expectation = %+v; the regex must arrive unchanged", e.Config())
			}
			re := e.(expect.RowExpectation)
			var bad []any
			for _, row := range emailRows().Rows {
				if ok, v := re.Check(row); !ok {
					bad = append(bad, v)
				}
			}
			if len(bad) != 1 || bad[0] != "not-an-email" {
				t.Fatalf("failed values = %v, want [not-an-email]", bad)
			}
			r := expect.ValidateRow(re, emailRows())
			if r.Success || r.Result.UnexpectedCount != 1 || r.Result.MissingCount != 1 || r.Result.ElementCount != 4 {
				t.Fatalf("result = %+v", r.Result)
			}
		})
	}
}

func TestSuiteFields(t *testing.T) {
	cases := []struct {
		file, name, model string
		n, rows, sets     int
	}{
		{"leads.json", "leads.critical", "stg_leads", 5, 4, 1},
		{"leads.yaml", "leads.yaml", "stg_leads", 3, 2, 1},
		{"leads_gx1.json", "leads.gx1", "leads.gx1", 1, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "suites", tc.file)
			suites, err := suite.LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := suites[0]
			if s.Name != tc.name || s.Model != tc.model || s.File != path || len(s.Expectations) != tc.n ||
				len(s.Rows()) != tc.rows || len(s.Sets()) != tc.sets {
				t.Fatalf("suite = %q %q %q %d exps, %d rows, %d sets", s.Name, s.Model, s.File, len(s.Expectations), len(s.Rows()), len(s.Sets()))
			}
			if src := s.Expectations[0].Config().Source; !strings.HasPrefix(src, path+":") {
				t.Fatalf("Source = %q, want %s:<line>", src, path)
			}
		})
	}
	suites, _ := suite.LoadFile(filepath.Join("testdata", "suites", "leads_gx1.json"))
	if sev := suites[0].Expectations[0].Config().Meta["severity"]; sev != "critical" {
		t.Fatalf("GX 1.x severity not kept in meta: %v", sev)
	}
}

func TestLoadDir(t *testing.T) {
	suites, err := suite.LoadDir(filepath.Join("testdata", "suites"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range suites {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "dbt:stg_leads,leads.critical,leads.gx1,leads.yaml" {
		t.Fatalf("suites = %s", got)
	}
	_, err = suite.LoadDir(filepath.Join("testdata", "dup"))
	if !errors.Is(err, suite.ErrDuplicateSuite) || !strings.Contains(err.Error(), "a.yaml") || !strings.Contains(err.Error(), "b.yml") {
		t.Fatalf("duplicate names: err = %v", err)
	}
	if _, err := suite.LoadDir(filepath.Join("testdata", "missing")); err == nil {
		t.Fatal("missing dir: want an error")
	}
}
