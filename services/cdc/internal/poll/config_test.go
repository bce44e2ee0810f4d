package poll_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/riacho/riacho/services/cdc/internal/poll"
)

func decode(t *testing.T, path string, v any) error {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

func TestSAPB1ConfigFromYAML(t *testing.T) {
	var c poll.SAPB1Config
	if err := decode(t, "testdata/sapb1.yaml", &c); err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.URL != "https://sap.example:50000/b1s/v1" || c.Interval != 30*time.Second || c.Overlap != 10*time.Minute || c.Schema != "b1" {
		t.Fatalf("config %+v", c)
	}
	inv, bp, items := c.Entities[0], c.Entities[1], c.Entities[2]
	if inv.Key[0] != (poll.FieldConfig{Name: "DocEntry", Type: "long"}) || inv.Fields[0] != (poll.FieldConfig{Name: "CardCode", Type: "string"}) ||
		inv.Fields[1].Type != "decimal(19,6)" || inv.UpdatedAt != "UpdateDate" || inv.UpdatedTime != "UpdateTime" {
		t.Fatalf("invoices %+v", inv)
	}
	if bp.Key[0] != (poll.FieldConfig{Name: "CardCode", Type: "string"}) || items.Key[0] != (poll.FieldConfig{Name: "ItemCode", Type: "string"}) || items.UpdatedTime != "none" {
		t.Fatalf("partners %+v, items %+v", bp, items)
	}
	if c.InsecureSkipVerify {
		t.Fatal("insecure_skip_verify must be off by default")
	}
}

func TestUnknownYAMLKeysAreErrors(t *testing.T) {
	var s poll.SAPB1Config
	if err := decode(t, "testdata/typo_sapb1.yaml", &s); err == nil || !strings.Contains(err.Error(), "pasword_env") {
		t.Fatalf("typo accepted: %v", err)
	}
	var p poll.PloomesConfig
	if err := decode(t, "testdata/typo_field.yaml", &p); err == nil || !strings.Contains(err.Error(), "tipe") {
		t.Fatalf("typo in a field accepted: %v", err)
	}
}

func TestDefaultsValidate(t *testing.T) {
	s := poll.SAPB1Config{URL: "https://sap:50000", CompanyDB: "C", Username: "u", Entities: []poll.EntityConfig{{Name: "Orders"}}}
	s.Defaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("SAP B1 defaults: %v", err)
	}
	p := poll.PloomesConfig{Entities: []poll.EntityConfig{{Name: "Deals"}}}
	p.Defaults()
	if err := p.Validate(); err != nil {
		t.Fatalf("Ploomes defaults: %v", err)
	}
	if p.URL != "https://api2.ploomes.com" || p.RatePerMinute != 120 || p.PageSize != 300 || p.Schema != "api" || p.Entities[0].Key[0].Name != "Id" {
		t.Fatalf("Ploomes defaults %+v", p)
	}
	q := poll.SQLConfig{Driver: "postgres", DSNEnv: "X", Tables: []poll.SQLTable{{Name: "t", UpdatedAt: "u", Key: []string{"id"}}}}
	q.Defaults()
	if err := q.Validate(); err != nil {
		t.Fatalf("SQL defaults: %v", err)
	}
	if o := q.Options(); o.PageSize != 1000 || o.Interval != 10*time.Second {
		t.Fatalf("SQL options %+v", o)
	}
}

func TestValidateNamesFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"sapb1 empty", poll.SAPB1Config{}.Validate(), []string{"url: required", "company_db", "username", "password_env", "entities", "page_size", "interval", "timeout", "schema", "timezone_offset"}},
		{"sapb1 entity", poll.SAPB1Config{URL: "ftp://x", Entities: []poll.EntityConfig{{Name: "A B", Key: []poll.FieldConfig{{Name: "K", Type: "double"}}, Fields: []poll.FieldConfig{{Name: "K", Type: "decimal(3,4)"}, {Name: "_raw", Type: "string"}}}}}.Validate(),
			[]string{"url:", "entities[0].name", "entities[0].key[0].type", "entities[0].fields[0].name", "entities[0].fields[0].type", "entities[0].fields[1].name", "entities[0].updated_at", "entities[0].updated_time"}},
		{"ploomes", poll.PloomesConfig{URL: "https://u:p@x", PageSize: 301, RatePerMinute: 0, TimezoneOffset: "BRT", Entities: []poll.EntityConfig{{Name: "Deals", UpdatedAt: "L", UpdatedTime: "T", Key: []poll.FieldConfig{{Name: "Id", Type: "long"}}}}}.Validate(),
			[]string{"url: credentials", "user_key_env", "page_size", "rate_per_minute", "timezone_offset", "entities[0].updated_time"}},
		{"sql", poll.SQLConfig{Driver: "mysql", DSN: "a", DSNEnv: "b", Tables: []poll.SQLTable{{Name: "t", UpdatedAt: "u", Key: []string{"u"}}, {Name: "t", UpdatedAt: "u", Key: []string{"id"}}}}.Validate(),
			[]string{"dsn, dsn_env", "tables[0].key[0]", "tables[1].name", "page_size", "interval"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(tc.err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, tc.err)
				}
			}
		})
	}
}

func TestSecretsFromEnv(t *testing.T) {
	t.Setenv("TEST_SAP_PW", "pw")
	c := poll.SAPB1Config{PasswordEnv: "TEST_SAP_PW"}
	if p, err := c.Password(); err != nil || p != "pw" {
		t.Fatalf("Password() = %q, %v", p, err)
	}
	c.PasswordEnv = "TEST_SAP_PW_UNSET"
	if _, err := c.Password(); err == nil || !strings.Contains(err.Error(), "TEST_SAP_PW_UNSET") {
		t.Fatalf("unset password env: %v", err)
	}
	q := poll.SQLConfig{Driver: "postgres", DSN: "postgres://u:secret@h/db"}
	if strings.Contains(q.String(), "secret") {
		t.Fatal("SQLConfig.String shows the DSN")
	}
}
