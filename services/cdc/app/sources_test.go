package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseSourcesValid(t *testing.T) {
	const file = `
sources:
  - name: erp
    postgres:
      url_env: ERP_URL
      include: [public.*]
  - name: legacy
    sql:
      driver: postgres
      dsn_env: LEGACY_DSN
      tables:
        - {schema: public, name: clientes, updated_at: atualizado_em, key: [id]}
`
	srcs, err := ParseSources("cdc.yaml", []byte(file), getenv(map[string]string{
		"ERP_URL":    "postgres://postgres@127.0.0.1:5432/riacho",
		"LEGACY_DSN": "postgres://postgres@127.0.0.1:5432/riacho",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 || srcs[0].Kind() != "postgres" || srcs[1].Kind() != "sql" {
		t.Fatalf("sources %+v", srcs)
	}
	pg := srcs[0].Postgres
	if pg.URL != "postgres://postgres@127.0.0.1:5432/riacho" || pg.Source != "erp" {
		t.Fatalf("postgres %+v", pg.Config)
	}
	if srcs[0].Where() != "cdc.yaml:3" || srcs[1].Where() != "cdc.yaml:7" {
		t.Fatalf("where %s %s", srcs[0].Where(), srcs[1].Where())
	}
}

func TestParseSourcesErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, file string
		want       []string
	}{
		{"unknown key", "sources:\n  - name: erp\n    postgres:\n      url: x\n      tabels: [a]\n", []string{"cdc.yaml:", "line 5", "tabels"}},
		{"syntax", "sources:\n  - name: [erp\n", []string{"cdc.yaml:", "line"}},
		{"two kinds", "sources:\n  - name: erp\n    postgres: {url: postgres://x}\n    sql: {driver: postgres, dsn: x}\n", []string{"cdc.yaml:2", "exactly one"}},
		{"no kind", "sources:\n  - name: erp\n", []string{"cdc.yaml:2", "exactly one"}},
		{"bad name", "sources:\n  - name: ERP Prod\n    postgres: {url: postgres://x}\n", []string{"cdc.yaml:2", "name must match"}},
		{"duplicate", "sources:\n  - name: erp\n    postgres: {url: postgres://x}\n  - name: erp\n    postgres: {url: postgres://y}\n", []string{"cdc.yaml:4", "already defined at cdc.yaml:2"}},
		{"missing env", "sources:\n  - name: erp\n    postgres: {url_env: NOPE}\n", []string{"cdc.yaml:2", "NOPE is not set"}},
		{"empty", "sources: []\n", []string{"cdc.yaml", "no sources"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSources("cdc.yaml", []byte(c.file), getenv(nil))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadSourcesMissingFile(t *testing.T) {
	_, err := LoadSources(filepath.Join(t.TempDir(), "nope.yaml"), os.Getenv)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("error %v", err)
	}
}
