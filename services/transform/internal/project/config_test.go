package project

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/riacho/riacho/services/transform/internal/mask"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if c.Materialized != "view" || !c.Enabled || c.MaxRecords != 10000 || c.Linger != 200*time.Millisecond || c.DedupeWindow != 24*time.Hour {
		t.Fatalf("DefaultConfig() = %+v", c)
	}
	if c.Linger <= 0 || c.Linger > MaxLinger {
		t.Fatalf("default linger %s is outside (0, %s]", c.Linger, MaxLinger)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"dbt_project.yml": `name: prec
models:
  +tags: [all]
  prec:
    +materialized: table
    +unique_key: id
    +riacho: {linger: 1s, max_records: 100, partitions: 3}
    staging:
      +materialized: incremental
      +tags: staging
      +riacho:
        linger: 2s
      stg_b:
        +riacho: {dedupe_window: 0}
`,
		"models/staging/stg_a.sql": "{{ config(unique_key='z', tags=['file'], riacho={'topic': 'custom.a'}) }}SELECT 1\n",
		"models/staging/stg_b.sql": "SELECT 2\n",
		"models/staging/schema.yml": `version: 2
models:
  - name: stg_a
    tags: [yml]
    config:
      materialized: view
      unique_key: [a, b]
      riacho:
        max_records: 50
        version_column: v
`,
		"models/top.sql": "SELECT 3\n",
	})
	p := mustLoad(t, dir, Options{})
	tests := []struct {
		model string
		want  Config
		topic string
	}{
		{"stg_a", Config{
			Materialized:  "view",        // schema yml over folder
			UniqueKey:     []string{"z"}, // config() over schema yml
			Enabled:       true,
			Tags:          []string{"all", "staging", "yml", "file"}, // tags add up
			MaxRecords:    50,                                        // schema yml over project root
			Linger:        2 * time.Second,                           // inner folder over outer
			DedupeWindow:  24 * time.Hour,
			VersionColumn: "v",
			Topic:         "custom.a",
			Partitions:    3,
		}, "custom.a"},
		{"stg_b", Config{
			Materialized: "incremental", UniqueKey: []string{"id"}, Enabled: true, Tags: []string{"all", "staging"},
			MaxRecords: 100, Linger: 2 * time.Second, DedupeWindow: 0, Partitions: 3, // model key under its folder
		}, "staging.stg_b"},
		{"top", Config{
			Materialized: "table", UniqueKey: []string{"id"}, Enabled: true, Tags: []string{"all"},
			MaxRecords: 100, Linger: time.Second, DedupeWindow: 24 * time.Hour, Partitions: 3,
		}, "staging.top"},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			m := p.Models[tt.model]
			if !reflect.DeepEqual(m.Config, tt.want) {
				t.Errorf("Config =\n%+v\nwant\n%+v", m.Config, tt.want)
			}
			if m.OutputTopic != tt.topic {
				t.Errorf("OutputTopic = %q, want %q", m.OutputTopic, tt.topic)
			}
		})
	}
}

func TestMaskingConfig(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"models/leads.sql": "{{ config(masking={'email': 'hash', 'phone': {'policy': 'keep_last', 'n': 4}}) }}\nSELECT email, phone, cpf FROM t\n",
		"models/schema.yml": `version: 2
models:
  - name: leads
    config:
      masking:
        cpf: redact
        email: redact
`,
	})
	m := mustLoad(t, dir, Options{}).Models["leads"]
	want := map[string]mask.Policy{
		"email": {Kind: mask.KindHash}, // config() wins per column
		"phone": {Kind: mask.KindKeepLast, N: 4},
		"cpf":   {Kind: mask.KindRedact},
	}
	if !reflect.DeepEqual(m.Config.Masking, want) {
		t.Fatalf("Masking = %+v, want %+v", m.Config.Masking, want)
	}
	if m.SQL != "\nSELECT email, phone, cpf FROM t\n" {
		t.Fatalf("SQL = %q: config() must render empty", m.SQL)
	}
}

func TestVarsEnvTarget(t *testing.T) {
	files := map[string]string{
		"dbt_project.yml": "name: v\nvars:\n  a: 1\n  b: from_project\n  v:\n    a: 2\n",
		"models/m.sql":    "SELECT {{ var('a') }}, '{{ var('b', 'dflt') }}', '{{ var('c', 'dflt') }}', '{{ env_var('RIACHO_PROJECT_TEST_X', 'none') }}', '{{ target.name }}'",
	}
	dir := writeProject(t, files)
	tests := []struct {
		name string
		opts Options
		env  string
		want string
	}{
		{"defaults", Options{}, "", "SELECT 2, 'from_project', 'dflt', 'none', 'dev'"},
		{"process env", Options{}, "from_env", "SELECT 2, 'from_project', 'dflt', 'from_env', 'dev'"},
		{"options win", Options{
			Vars:   map[string]any{"a": 7, "c": "opt"},
			Target: "prod",
			Env:    func(k string) (string, bool) { return "injected_" + k, true },
		}, "from_env", "SELECT 7, 'from_project', 'opt', 'injected_RIACHO_PROJECT_TEST_X', 'prod'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("RIACHO_PROJECT_TEST_X", tt.env)
			}
			if got := mustLoad(t, dir, tt.opts).Models["m"].SQL; got != tt.want {
				t.Fatalf("SQL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTargetBranches(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"models/m.sql": "SELECT * FROM {% if target.name == 'prod' %}{{ ref('a') }}{% else %}{{ ref('b') }}{% endif %}",
		"models/a.sql": "SELECT 1",
		"models/b.sql": "SELECT 2",
	})
	for target, dep := range map[string]string{"prod": "a", "dev": "b"} {
		m := mustLoad(t, dir, Options{Target: target}).Models["m"]
		if !slices.Equal(m.DependsOn, []string{dep}) || len(m.Inputs) != 1 || m.Inputs[0].Name != dep {
			t.Errorf("target %s: DependsOn %v Inputs %+v, want only %s (refs in dead branches do not count)", target, m.DependsOn, m.Inputs, dep)
		}
	}
}

func TestDisabledModel(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"models/old.sql": "{{ config(enabled=false) }}SELECT 1",
		"models/new.sql": "SELECT 2",
	})
	p := mustLoad(t, dir, Options{})
	if p.Models["old"] == nil || p.Models["old"].Config.Enabled {
		t.Fatalf("old = %+v, want present and disabled", p.Models["old"])
	}
	if got := modelNames(p.Order); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("Order = %v, want [new]", got)
	}
}

func TestSourceForms(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"models/src.yml": `version: 2
sources:
  - name: crm
    tables:
      - &base
        name: leads
        description: merged into deals below, which overrides name and meta
        meta: {riacho: {alias: leads_raw}}
      - <<: *base
        name: deals
        meta:
          riacho:
            unwrap: none
      - name: gone
        config: {enabled: false}
`,
		"models/m.sql": "SELECT * FROM {{ source('crm', 'leads') }} JOIN {{ ref('leads_raw') }} USING (id) JOIN {{ source('crm', 'deals') }} USING (id)",
	})
	p := mustLoad(t, dir, Options{})
	m := p.Models["m"]
	want := `SELECT * FROM "src__crm__leads" JOIN "src__crm__leads" USING (id) JOIN "src__crm__deals" USING (id)`
	if m.SQL != want {
		t.Errorf("SQL = %q, want %q", m.SQL, want)
	}
	wantIn := []Relation{
		{Kind: RelSource, Name: "crm.leads", Topic: "raw.crm.leads", Table: "src__crm__leads", Unwrap: "auto"},
		{Kind: RelSource, Name: "crm.deals", Topic: "raw.crm.deals", Table: "src__crm__deals", Unwrap: "none"},
	}
	if !reflect.DeepEqual(m.Inputs, wantIn) {
		t.Errorf("Inputs = %+v, want %+v (source and alias deduplicated)", m.Inputs, wantIn)
	}
	if d := p.Sources["crm.deals"]; d == nil || d.Alias != "" {
		t.Errorf("crm.deals = %+v, want no alias (its own meta replaces the merged one)", d)
	}
	if _, ok := p.Sources["crm.gone"]; ok {
		t.Errorf("disabled source table crm.gone was loaded")
	}
}
