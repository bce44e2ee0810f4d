package avro_test

import (
	"github.com/riacho/riacho/libs/configtest"

	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/riacho/riacho/libs/avro"
)

func TestRegistryConfigDefaults(t *testing.T) {
	if err := avro.DefaultRegistryConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := avro.LoadRegistryConfig(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, avro.DefaultRegistryConfig()) {
		t.Fatalf("empty env = %#v, want defaults", got)
	}
	got, err = avro.LoadRegistryConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"RIACHO_SCHEMA_REGISTRY_URL":           "https://sr.example:8443/prefix",
		"RIACHO_SCHEMA_REGISTRY_USERNAME":      "svc",
		"RIACHO_SCHEMA_REGISTRY_PASSWORD_FILE": "/run/secrets/sr",
		"RIACHO_SCHEMA_REGISTRY_TIMEOUT":       "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := avro.RegistryConfig{URL: "https://sr.example:8443/prefix", Username: "svc", PasswordFile: "/run/secrets/sr", Timeout: 3 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestRegistryConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"not a url", map[string]string{"RIACHO_SCHEMA_REGISTRY_URL": "127.0.0.1:8081"}, []string{"RIACHO_SCHEMA_REGISTRY_URL"}},
		{"wrong scheme", map[string]string{"RIACHO_SCHEMA_REGISTRY_URL": "ftp://x"}, []string{"RIACHO_SCHEMA_REGISTRY_URL"}},
		{"credentials in url", map[string]string{"RIACHO_SCHEMA_REGISTRY_URL": "http://u:hunter2@x"}, []string{"RIACHO_SCHEMA_REGISTRY_URL"}},
		{"bad timeout", map[string]string{"RIACHO_SCHEMA_REGISTRY_TIMEOUT": "later"}, []string{"RIACHO_SCHEMA_REGISTRY_TIMEOUT"}},
		{"zero timeout", map[string]string{"RIACHO_SCHEMA_REGISTRY_TIMEOUT": "0s"}, []string{"RIACHO_SCHEMA_REGISTRY_TIMEOUT"}},
		{"password without user", map[string]string{"RIACHO_SCHEMA_REGISTRY_PASSWORD": "hunter2"}, []string{"RIACHO_SCHEMA_REGISTRY_USERNAME"}},
		{"password and file", map[string]string{
			"RIACHO_SCHEMA_REGISTRY_USERNAME": "u", "RIACHO_SCHEMA_REGISTRY_PASSWORD": "hunter2", "RIACHO_SCHEMA_REGISTRY_PASSWORD_FILE": "/f",
		}, []string{"RIACHO_SCHEMA_REGISTRY_PASSWORD and RIACHO_SCHEMA_REGISTRY_PASSWORD_FILE"}},
		{"all at once", map[string]string{"RIACHO_SCHEMA_REGISTRY_URL": "nope", "RIACHO_SCHEMA_REGISTRY_TIMEOUT": "-1s"},
			[]string{"RIACHO_SCHEMA_REGISTRY_URL", "RIACHO_SCHEMA_REGISTRY_TIMEOUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := avro.LoadRegistryConfig(context.Background(), envconfig.MapLookuper(tt.env))
			configtest.RequireNames(t, err, tt.want...)
			configtest.RequireNoSecret(t, err, "hunter2")
		})
	}
}

func TestRegistryConfigHidesPassword(t *testing.T) {
	cfg := avro.DefaultRegistryConfig()
	cfg.Username, cfg.Password = "svc", "Pa55-w0rd"
	for _, out := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.LogValue().String()} {
		if strings.Contains(out, "Pa55-w0rd") || !strings.Contains(out, "svc") {
			t.Errorf("bad rendering: %s", out)
		}
	}
}
