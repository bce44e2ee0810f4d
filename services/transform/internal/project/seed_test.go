package project

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedCompiled is the seed model with its ref replaced: nothing else moves,
// the trailing space after CASE included.
const seedCompiled = "-- models/staging/stg_ploomes_leads.sql\n" +
	"WITH source AS (\n" +
	"    SELECT * FROM \"src__ploomes__leads\"\n" +
	"),\n" +
	"\n" +
	"cleaned AS (\n" +
	"    SELECT\n" +
	"        lead_id,\n" +
	"        TRIM(LOWER(email)) AS email,\n" +
	"        COALESCE(phone, '') AS phone,\n" +
	"        DATE(created_at) AS created_date,\n" +
	"        CASE \n" +
	"            WHEN status = 'Won' THEN 'Convertido'\n" +
	"            WHEN status = 'Lost' THEN 'Perdido'\n" +
	"            ELSE 'Em Andamento'\n" +
	"        END AS status_ptbr\n" +
	"    FROM source\n" +
	"    WHERE email IS NOT NULL\n" +
	")\n" +
	"\n" +
	"SELECT * FROM cleaned\n"

func TestSeed(t *testing.T) {
	dir := filepath.Join("testdata", "seed")
	p, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "models", "staging", "stg_ploomes_leads.sql"))
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models["stg_ploomes_leads"]
	if m == nil {
		t.Fatalf("models = %v, want stg_ploomes_leads", p.Models)
	}
	if m.RawSQL != string(raw) {
		t.Errorf("RawSQL differs from the file's bytes")
	}
	if m.SQL != seedCompiled {
		t.Errorf("compiled SQL:\n%q\nwant:\n%q", m.SQL, seedCompiled)
	}
	if want := strings.Replace(string(raw), "{{ ref('raw_ploomes_leads') }}", `"src__ploomes__leads"`, 1); m.SQL != want {
		t.Errorf("compiled SQL is not the file with only the ref replaced")
	}
	if !strings.Contains(m.SQL, "CASE \n") {
		t.Errorf("the trailing space after CASE was lost")
	}
	wantIn := []Relation{{Kind: RelSource, Name: "ploomes.leads", Topic: "raw.ploomes.leads", Table: "src__ploomes__leads", Unwrap: "auto"}}
	if !reflect.DeepEqual(m.Inputs, wantIn) {
		t.Errorf("Inputs = %+v, want %+v", m.Inputs, wantIn)
	}
	if len(m.DependsOn) != 0 {
		t.Errorf("DependsOn = %v, want none (the ref is a source alias)", m.DependsOn)
	}
	if m.Path != "models/staging/stg_ploomes_leads.sql" || !filepath.IsAbs(m.File) {
		t.Errorf("Path = %q, File = %q", m.Path, m.File)
	}
	if m.OutputTopic != "staging.stg_ploomes_leads" {
		t.Errorf("OutputTopic = %q", m.OutputTopic)
	}
	if !reflect.DeepEqual(m.Config, DefaultConfig()) {
		t.Errorf("Config = %+v, want the defaults %+v", m.Config, DefaultConfig())
	}
	src := p.Sources["ploomes.leads"]
	if src == nil || src.Alias != "raw_ploomes_leads" || src.Topic != "raw.ploomes.leads" || src.Unwrap != "auto" || src.Line != 7 {
		t.Errorf("source = %+v", src)
	}
	if p.Name != "seed" || p.Dir != dir {
		t.Errorf("project name %q dir %q, want seed (no dbt_project.yml) and %q", p.Name, p.Dir, dir)
	}
	if len(p.Order) != 1 || p.Order[0] != m {
		t.Errorf("Order = %v, want the one model", p.Order)
	}
}
