package project

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A full dbt schema file: everything riacho does not use is accepted.
const dbtSchema = `version: 2
sources:
  - name: erp
    description: ERP tables
    database: raw
    schema: public
    loader: riacho-cdc
    loaded_at_field: _loaded_at
    freshness: {warn_after: {count: 12, period: hour}}
    quoting: {identifier: false}
    tags: [erp]
    meta: {owner: data}
    tables:
      - name: invoices
        identifier: oinv
        description: Invoices
        loaded_at_field: updated_at
        columns:
          - name: doc_entry
            description: key
            data_type: bigint
            data_tests: [unique, not_null]
            meta: {pii: false}
            tags: [key]
        tests: [{dbt_utils.recency: {datepart: day, field: updated_at, interval: 1}}]
        external: {location: s3://x}
models:
  - name: m
    description: "{{ doc('m') }}"
    docs: {show: true}
    access: public
    group: finance
    meta: {owner: data}
    tags: [finance]
    config:
      materialized: table
      schema: marts
      persist_docs: {relation: true}
      grants: {select: [reporter]}
      contract: {enforced: false}
      on_schema_change: append_new_columns
      incremental_strategy: merge
      meta: {a: 1}
    constraints: [{type: primary_key, columns: [id]}]
    columns:
      - name: id
        tests: [unique]
        constraints: [{type: not_null}]
        quote: true
metrics:
  - name: revenue
exposures:
  - name: dash
semantic_models: []
seeds:
  - name: countries
snapshots:
  - name: snap
macros:
  - name: cents_to_dollars
unit_tests:
  - name: t
`

func TestSchemaAcceptsDbtKeys(t *testing.T) {
	sf, err := parseSchemaFile("s.yml", []byte(dbtSchema))
	if err != nil {
		t.Fatal(err)
	}
	if len(sf.sources) != 1 || sf.sources[0].Key() != "erp.invoices" || sf.sources[0].Topic != "raw.erp.invoices" {
		t.Fatalf("sources = %+v", sf.sources)
	}
	if len(sf.models) != 1 || sf.models[0].name != "m" {
		t.Fatalf("models = %+v", sf.models)
	}
	c := resolve(sf.models[0].cfg)
	if c.Materialized != "table" || !reflect.DeepEqual(c.Tags, []string{"finance"}) {
		t.Fatalf("model config = %+v, want table with tag finance", c)
	}
}

func TestEmptyYAMLFiles(t *testing.T) {
	for _, content := range []string{"", "\n", "# only a comment\n", "~\n", "---\n"} {
		sf, err := parseSchemaFile("s.yml", []byte(content))
		if err != nil || len(sf.sources)+len(sf.models) != 0 {
			t.Errorf("schema %q: %+v, %v, want empty", content, sf, err)
		}
		pf, err := parseProjectFile("dbt_project.yml", []byte(content), "dflt")
		if err != nil || pf.name != "dflt" || !reflect.DeepEqual(pf.modelPaths, []string{"models"}) {
			t.Errorf("project %q: %+v, %v, want the defaults", content, pf, err)
		}
	}
}

func TestYAMLMultipleDocuments(t *testing.T) {
	_, err := parseSchemaFile("s.yml", []byte("version: 2\n---\nmodels: []\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "s.yml:2:1: more than one YAML document") {
		t.Fatalf("error %v, want s.yml:2:1 (the second ---)", err)
	}
}

// Each << merge here doubles the work of the one before; the walk must stop
// with an error instead of running for minutes.
func TestYAMLMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 2\nmodels:\n  - &a0 {name: m}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  - &a%d {<<: [*a%d, *a%d]}\n", i, i-1, i-1)
	}
	_, err := parseSchemaFile("s.yml", []byte(b.String()))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "expand too much") {
		t.Fatalf("error %v, want the expansion bound", err)
	}
}

func TestProjectVarsScoped(t *testing.T) {
	pf, err := parseProjectFile("dbt_project.yml", []byte("name: p\nvars:\n  a: 1\n  b: [x]\n  p:\n    a: 2\n  other:\n    a: 3\n"), "d")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": 2, "b": []any{"x"}, "other": map[string]any{"a": 3}}
	if !reflect.DeepEqual(pf.vars, want) {
		t.Fatalf("vars = %#v, want %#v (the project's own scope wins)", pf.vars, want)
	}
}
