package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// firstError is the first line of a (joined) load error, with the
// project directory taken off the path.
func firstError(dir string, err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimPrefix(line, dir+string(filepath.Separator))
}

func TestLoadErrors(t *testing.T) {
	ok := "SELECT 1\n"
	tests := []struct {
		name  string
		files map[string]string
		where string // exact "path:line[:col]: " prefix
		kind  error
		msg   string
	}{
		{"unknown function", map[string]string{"models/a.sql": "SELECT\n  {{ dbt_utils.star() }}"},
			"models/a.sql:2:6: ", ErrUndefined, "unknown function dbt_utils.star() (macros and packages are not supported"},
		{"unknown function call", map[string]string{"models/a.sql": "SELECT {{ star('x') }}"},
			"models/a.sql:1:11: ", ErrUndefined, "unknown function star()"},
		{"unknown tag", map[string]string{"models/a.sql": "SELECT 1\n{% snapshotx %}"},
			"models/a.sql:2:4: ", ErrUnsupported, "unknown tag {% snapshotx %}"},
		{"for loop", map[string]string{"models/a.sql": "SELECT\n{% for c in ['a', 'b'] %}{{ c }},{% endfor %}\n1"},
			"models/a.sql:2:4: ", ErrUnsupported, "{% for %} is not supported"},
		{"filter", map[string]string{"models/a.sql": "SELECT '{{ var('x', 'a') | upper }}'"},
			"models/a.sql:1:26: ", ErrUnsupported, "filters"},
		{"unclosed tag", map[string]string{"models/a.sql": "SELECT *\nFROM {{ ref('b')\n"},
			"models/a.sql:2:6: ", ErrSyntax, "unclosed {{"},
		{"unclosed if", map[string]string{"models/a.sql": "SELECT 1\n{% if true %}\nWHERE x\n"},
			"models/a.sql:2:4: ", ErrSyntax, "unclosed {% if %}"},
		{"missing var", map[string]string{"models/a.sql": "SELECT *\nFROM t\nWHERE d > '{{ var(\"start\") }}'"},
			"models/a.sql:3:15: ", ErrUndefined, `var("start") is not set`},
		{"missing env var", map[string]string{"models/a.sql": "SELECT '{{ env_var('RIACHO_SURELY_UNSET_VAR') }}'"},
			"models/a.sql:1:12: ", ErrUndefined, "env_var"},
		{"unknown ref", map[string]string{"models/a.sql": "SELECT *\nFROM {{ ref('stg_lead') }}", "models/stg_leads.sql": ok},
			"models/a.sql:2:9: ", ErrUndefined, `ref("stg_lead"): no model or source alias is named stg_lead (did you mean "stg_leads"?)`},
		{"unknown source", map[string]string{"models/a.sql": "SELECT * FROM {{ source('crm', 'lead') }}",
			"models/s.yml": "sources: [{name: crm, tables: [{name: leads}]}]"},
			"models/a.sql:1:18: ", ErrUndefined, `(did you mean "crm.leads"?)`},
		{"ref to other package", map[string]string{"models/a.sql": "SELECT * FROM {{ ref('dbt_utils', 'b') }}", "models/b.sql": ok},
			"models/a.sql:1:18: ", ErrUnsupported, "packages are not supported"},
		{"cycle", map[string]string{
			"models/a.sql": "SELECT * FROM {{ ref('b') }}",
			"models/b.sql": "SELECT * FROM {{ ref('c') }}",
			"models/c.sql": "SELECT 1 FROM x\nJOIN {{ ref('a') }}",
			"models/d.sql": "SELECT * FROM {{ ref('a') }}",
		}, "models/a.sql:1:18: ", ErrCycle, "ref cycle: a -> b -> c -> a"},
		{"self ref", map[string]string{"models/a.sql": "SELECT 1\nUNION ALL SELECT * FROM {{ ref('a') }}"},
			"models/a.sql:2:28: ", ErrCycle, "ref cycle: a -> a"},
		{"duplicate model", map[string]string{"models/x/m.sql": ok, "models/y/m.sql": ok},
			"models/y/m.sql:1: ", ErrDuplicate, "model m is already defined by models/x/m.sql"},
		{"bad model file name", map[string]string{"models/my-model.sql": ok},
			"models/my-model.sql:1: ", ErrInvalid, "must be letters, digits and _"},
		{"python model", map[string]string{"models/p.py": "def model(dbt, s): pass"},
			"models/p.py:1: ", ErrUnsupported, "python models"},
		{"bad config kwarg", map[string]string{"models/a.sql": "{{ config(\n    materialised='table') }}\nSELECT 1"},
			"models/a.sql:2:5: ", ErrUnknownKey, `config materialised: unknown config key (did you mean "materialized"?)`},
		{"bad materialized", map[string]string{"models/a.sql": "{{ config(materialized='snapshot') }}SELECT 1"},
			"models/a.sql:1:11: ", ErrInvalid, "snapshot is not one of view, table, incremental, ephemeral"},
		{"alias refused", map[string]string{"models/a.sql": "{{ config(alias='x') }}SELECT 1"},
			"models/a.sql:1:11: ", ErrUnsupported, "alias is not supported"},
		{"hook refused", map[string]string{"models/a.sql": "{{ config(post_hook='grant') }}SELECT 1"},
			"models/a.sql:1:11: ", ErrUnsupported, "hooks are not supported"},
		{"bad riacho option", map[string]string{"models/a.sql": "{{ config(materialized='table', riacho={'lingr': '1s'}) }}SELECT 1"},
			"models/a.sql:1:33: ", ErrUnknownKey, `config riacho.lingr: unknown riacho option (want max_records, linger, dedupe_window, version_column, topic, partitions) (did you mean "linger"?)`},
		{"bad riacho linger", map[string]string{"models/a.sql": "{{ config(riacho={'linger': '20s'}) }}SELECT 1"},
			"models/a.sql:1:11: ", ErrInvalid, "config riacho.linger: want a duration > 0 and <= 10s"},
		{"bad riacho linger in yaml", map[string]string{"models/a.sql": ok,
			"dbt_project.yml": "name: p\nmodels:\n  p:\n    +riacho:\n      max_records: 5\n      linger: soon\n"},
			"dbt_project.yml:6:7: ", ErrInvalid, "config riacho.linger"},
		{"bad masking policy in yaml", map[string]string{"models/a.sql": ok,
			"models/s.yml": "models:\n  - name: a\n    config:\n      masking:\n        email: hash\n        cpf: blur\n"},
			"models/s.yml:6:9: ", ErrInvalid, `config masking.cpf: invalid masking policy: unknown policy "blur"`},
		{"bad masking in config()", map[string]string{"models/a.sql": "{{ config(masking={'phone': 'keep_last'}) }}SELECT 1"},
			"models/a.sql:1:11: ", ErrInvalid, "keep_last needs n"},
		{"bad partitions", map[string]string{"models/a.sql": "{{ config(riacho={'partitions': -1}) }}SELECT 1"},
			"models/a.sql:1:11: ", ErrInvalid, "riacho.partitions"},
		{"bad topic", map[string]string{"models/a.sql": "{{ config(riacho={'topic': 'no spaces'}) }}SELECT 1"},
			"models/a.sql:1:11: ", ErrInvalid, "riacho.topic"},
		{"ref to disabled", map[string]string{"models/a.sql": "SELECT * FROM {{ ref('b') }}", "models/b.sql": "{{ config(enabled=false) }}SELECT 1"},
			"models/a.sql:1:18: ", ErrUndefined, "model b is disabled"},
		{"duplicate source", map[string]string{"models/a.sql": ok,
			"models/s1.yml": "sources:\n  - name: crm\n    tables:\n      - name: leads\n",
			"models/s2.yml": "sources:\n\n  - name: crm\n    tables:\n      - name: leads\n"},
			"models/s2.yml:5: ", ErrDuplicate, "source crm.leads is already declared at"},
		{"alias clashes with model", map[string]string{"models/raw.sql": ok,
			"models/s.yml": "sources:\n  - name: crm\n    tables:\n      - name: leads\n        meta: {riacho: {alias: raw}}\n"},
			"models/s.yml:5: ", ErrDuplicate, "alias raw of source crm.leads is also a model's name"},
		{"yml model without sql", map[string]string{"models/a.sql": ok, "models/s.yml": "models:\n  - name: a\n  - name: b\n"},
			"models/s.yml:3: ", ErrUndefined, "model b has no .sql file"},
		{"yml model twice", map[string]string{"models/a.sql": ok, "models/s.yml": "models:\n  - name: a\n", "models/t.yml": "models:\n  - name: a\n"},
			"models/t.yml:2: ", ErrDuplicate, "model a is already described at"},
		{"repeated yaml key", map[string]string{"models/a.sql": ok, "models/s.yml": "models:\n  - name: a\n    name: b\n"},
			"models/s.yml:3:5: ", ErrDuplicate, `key "name" repeats the one at line 2`},
		{"yaml syntax", map[string]string{"models/a.sql": ok, "models/s.yml": "models:\n\t- name: a\n"},
			"models/s.yml:2: ", ErrSyntax, "found character that cannot start any token"},
		{"yaml syntax mapping", map[string]string{"models/a.sql": ok, "models/s.yml": "version: 2\nmodels: a: b\n"},
			"models/s.yml:2: ", ErrSyntax, "mapping values are not allowed"},
		{"wrong yaml type", map[string]string{"models/a.sql": ok, "models/s.yml": "models:\n  name: a\n"},
			"models/s.yml:2:3: ", ErrInvalid, "models must be a list"},
		{"schema version", map[string]string{"models/a.sql": ok, "models/s.yml": "version: 3\n"},
			"models/s.yml:1:10: ", ErrInvalid, "version must be 2"},
		{"model versions", map[string]string{"models/a.sql": ok, "models/s.yml": "models:\n  - name: a\n    versions: [{v: 1}]\n"},
			"models/s.yml:3:5: ", ErrUnsupported, "model versions are not supported"},
		{"bad unwrap", map[string]string{"models/a.sql": ok, "models/s.yml": "sources:\n  - name: c\n    tables:\n      - name: t\n        meta: {riacho: {unwrap: maxwell}}\n"},
			"models/s.yml:5:33: ", ErrInvalid, "unwrap must be auto, debezium or none"},
		{"unused folder config", map[string]string{"models/staging/a.sql": ok, "dbt_project.yml": "name: p\nmodels:\n  p:\n    stagin:\n      +materialized: table\n"},
			"dbt_project.yml:4:5: ", ErrUndefined, "models.p.stagin: no model folder or model is at stagin"},
		{"other project in models", map[string]string{"models/a.sql": ok, "dbt_project.yml": "name: shop\nmodels:\n  shopp:\n    +materialized: table\n"},
			"dbt_project.yml:3:3: ", ErrUnknownKey, `(did you mean "shop"?)`},
		{"missing model path", map[string]string{"dbt_project.yml": "name: p\nmodel-paths: [models, transforms]\n", "models/a.sql": ok},
			"dbt_project.yml:2:23: ", ErrInvalid, `model path "transforms" does not exist`},
		{"model path outside", map[string]string{"dbt_project.yml": "name: p\nmodel-paths: [../x]\n"},
			"dbt_project.yml:2:15: ", ErrInvalid, "must be inside the project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, tt.files)
			_, err := Load(dir, Options{Env: func(string) (string, bool) { return "", false }})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			got := firstError(dir, err)
			if !strings.HasPrefix(got, tt.where) {
				t.Errorf("error %q, want it at %q", got, tt.where)
			}
			if !strings.Contains(got, tt.msg) {
				t.Errorf("error %q, want it to say %q", got, tt.msg)
			}
			var le *Error
			if !errors.As(err, &le) || !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not an *Error of kind %v", err, tt.kind)
			}
		})
	}
}

func TestTypoFiles(t *testing.T) {
	tests := []struct {
		file, as, where, msg string
	}{
		{"typo_model_key.yml", "models/schema.yml", "models/schema.yml:4:5: ", `unknown key "descripton" in model (did you mean "description"?)`},
		{"typo_source_key.yml", "models/schema.yml", "models/schema.yml:4:5: ", `unknown key "tabels" in source (did you mean "tables"?)`},
		{"typo_top_key.yml", "models/schema.yml", "models/schema.yml:2:1: ", `unknown key "model" in schema file (did you mean "models"?)`},
		{"typo_riacho_meta.yml", "models/schema.yml", "models/schema.yml:9:13: ", `unknown key "topik" in source table meta.riacho (did you mean "topic"?)`},
		{"typo_column_key.yml", "models/schema.yml", "models/schema.yml:6:9: ", `unknown key "data_typ" in column (did you mean "data_type"?)`},
		{"typo_model_config.yml", "models/schema.yml", "models/schema.yml:7:9: ", `config riacho.max_record: unknown riacho option`},
		{"typo_dbt_project.yml", "dbt_project.yml", "dbt_project.yml:3:1: ", `unknown key "model-path" in dbt_project.yml (did you mean "model-paths"?)`},
		{"typo_dbt_project_folder.yml", "dbt_project.yml", "dbt_project.yml:5:5: ", `"materialised" is neither a config (write +materialised) nor a folder`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			content, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			dir := writeProject(t, map[string]string{tt.as: string(content), "models/m.sql": "SELECT 1\n"})
			_, err = Load(dir, Options{})
			if err == nil {
				t.Fatal("Load succeeded, want an unknown key error")
			}
			got := firstError(dir, err)
			if !strings.HasPrefix(got, tt.where) || !strings.Contains(got, tt.msg) {
				t.Errorf("error %q, want %q...%q", got, tt.where, tt.msg)
			}
			if !errors.Is(err, ErrUnknownKey) {
				t.Errorf("error %v is not ErrUnknownKey", err)
			}
		})
	}
}

func TestLoadNotADirectory(t *testing.T) {
	if _, err := Load(filepath.Join("testdata", "nope"), Options{}); err == nil {
		t.Fatal("Load of a missing directory succeeded")
	}
	if _, err := Load(filepath.Join("testdata", "typo_top_key.yml"), Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Load of a file: %v, want not a directory", err)
	}
}
