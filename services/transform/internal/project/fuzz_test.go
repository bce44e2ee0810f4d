package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addFileSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}

// FuzzRender feeds arbitrary text to the template engine: it must never
// panic, and it either renders or fails with a positioned error. Text
// without any tag opener renders to itself.
func FuzzRender(f *testing.F) {
	addFileSeeds(f, "testdata/*/models/*/*.sql")
	for _, s := range []string{
		"{{ 'a' ~ 1 }}", "{% if x %}{% elif y %}{% else %}{% endif %}", "{# c #}", "{{- 1 -}}",
		"{% set x = {'a': [1, 2.5, None, True]} %}{{ x }}", "{{ var('n') + 1 }}", "{{ 1 not in [1] }}",
		"{{ ref('a', 'b') }}{{ source('s', 't') }}{{ config(materialized='table') }}", "{{ (((1))) }}",
		"{{ env_var('HOME_DIR') }}{{ target.name }}{{ is_incremental() }}", "{% for %}", "{{ x | f }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := renderString(src, newHooks())
		if err != nil {
			var pe *posError
			if !errors.As(err, &pe) || pe.line < 1 || pe.col < 1 || pe.msg == "" {
				t.Fatalf("render %q: error %v has no position", src, err)
			}
			if pe.kind == nil {
				t.Fatalf("render %q: error %v has no kind", src, err)
			}
			return
		}
		if !strings.Contains(src, "{{") && !strings.Contains(src, "{%") && !strings.Contains(src, "{#") && out != src {
			t.Fatalf("render %q = %q: text without tags must render as is", src, out)
		}
	})
}

// FuzzLoadYAML feeds arbitrary bytes to the schema file and dbt_project.yml
// parsers: no panic, and every error names the file and a line.
func FuzzLoadYAML(f *testing.F) {
	addFileSeeds(f, "testdata/*.yml")
	addFileSeeds(f, "testdata/*/models/*/*.yml")
	addFileSeeds(f, "testdata/*/dbt_project.yml")
	for _, s := range []string{
		"a: &x [*x]", "a: &a {b: 1}\nc: {<<: *a}", "models: [{name: m, config: {riacho: {linger: 1s}}}]",
		"sources: [{name: s, tables: [{name: t, meta: {riacho: {alias: a}}}]}]", "---\na: 1\n---\nb: 2\n", "\t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		const file = "models/schema.yml"
		check := func(what string, err error) {
			if err == nil {
				return
			}
			var le *Error
			if !errors.As(err, &le) || le.File != file || le.Line < 1 || le.Kind == nil {
				t.Fatalf("%s of %q: error %v does not name file and line", what, content, err)
			}
			if !strings.HasPrefix(err.Error(), file+":") {
				t.Fatalf("%s of %q: error %q does not start with the file", what, content, err)
			}
		}
		sf, err := parseSchemaFile(file, []byte(content))
		check("schema", err)
		if err == nil {
			for _, s := range sf.sources {
				if s.Name == "" || s.Table == "" || s.Topic == "" || !contains(unwrapModes, s.Unwrap) {
					t.Fatalf("schema of %q: incomplete source %+v", content, s)
				}
			}
		}
		_, err = parseProjectFile(file, []byte(content), "p")
		check("project", err)
	})
}
