package suite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riacho/riacho/services/quality/internal/suite"
)

// FuzzLoadSuite feeds arbitrary bytes to the JSON and YAML suite parsers:
// they must not panic, must name the file in every error, and must return
// only suites with a name and compiled expectations.
func FuzzLoadSuite(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "suites", "*"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"name": "x", "expectations": [{"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": 1e400}}]}`))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("name: a\nexpectations:\n  - type: expect_column_values_to_not_be_null\n    kwargs: {column: a, row_condition: \"(((a\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, file := range []string{"f.json", "f.yaml"} {
			suites, err := suite.Parse(file, data)
			if err != nil {
				if !strings.HasPrefix(err.Error(), file) {
					t.Fatalf("error does not name the file: %v", err)
				}
				continue
			}
			for _, s := range suites {
				if s.Name == "" || s.Model == "" || s.File != file {
					t.Fatalf("suite without name, model or file: %+v", s)
				}
				for _, e := range s.Expectations {
					if e == nil || e.Config().Type == "" || !strings.HasPrefix(e.Config().Source, file+":") {
						t.Fatalf("bad expectation %#v", e)
					}
				}
			}
		}
	})
}
