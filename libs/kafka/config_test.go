package kafka_test

import (
	"github.com/riacho/riacho/libs/configtest"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/riacho/riacho/libs/kafka"
)

func TestDefaultConfigValidates(t *testing.T) {
	if err := kafka.DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	got, err := kafka.LoadConfig(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatalf("load empty env: %v", err)
	}
	if !reflect.DeepEqual(got, kafka.DefaultConfig()) {
		t.Fatalf("empty env = %#v, want DefaultConfig %#v", got, kafka.DefaultConfig())
	}
}

func TestLoadConfig(t *testing.T) {
	env := map[string]string{
		"RIACHO_KAFKA_BROKERS":                  " a:9092, b:9093 ,",
		"RIACHO_KAFKA_CLIENT_ID":                "intake",
		"RIACHO_KAFKA_TLS":                      "true",
		"RIACHO_KAFKA_TLS_CA_FILE":              "/ca.pem",
		"RIACHO_KAFKA_TLS_INSECURE_SKIP_VERIFY": "false",
		"RIACHO_KAFKA_SASL_MECHANISM":           "scram-sha-512",
		"RIACHO_KAFKA_SASL_USERNAME":            "alice",
		"RIACHO_KAFKA_SASL_PASSWORD_FILE":       "/run/secrets/kafka",
		"RIACHO_KAFKA_DIAL_TIMEOUT":             "3s",
		"RIACHO_KAFKA_REQUEST_TIMEOUT":          "7s",
	}
	got, err := kafka.LoadConfig(context.Background(), envconfig.MapLookuper(env))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	want := kafka.Config{
		Brokers:          []string{"a:9092", "b:9093"},
		ClientID:         "intake",
		TLS:              true,
		TLSCAFile:        "/ca.pem",
		SASLMechanism:    kafka.SASLScramSHA512,
		SASLUsername:     "alice",
		SASLPasswordFile: "/run/secrets/kafka",
		DialTimeout:      3 * time.Second,
		RequestTimeout:   7 * time.Second,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // every variable the error must name
	}{
		{"no brokers", map[string]string{"RIACHO_KAFKA_BROKERS": " , "}, []string{"RIACHO_KAFKA_BROKERS"}},
		{"broker without port", map[string]string{"RIACHO_KAFKA_BROKERS": "kafka"}, []string{"RIACHO_KAFKA_BROKERS"}},
		{"broker bad port", map[string]string{"RIACHO_KAFKA_BROKERS": "kafka:99999"}, []string{"RIACHO_KAFKA_BROKERS"}},
		{"broker empty host", map[string]string{"RIACHO_KAFKA_BROKERS": ":9092"}, []string{"RIACHO_KAFKA_BROKERS"}},
		{"tls not bool", map[string]string{"RIACHO_KAFKA_TLS": "maybe"}, []string{"RIACHO_KAFKA_TLS"}},
		{"dial timeout unparsable", map[string]string{"RIACHO_KAFKA_DIAL_TIMEOUT": "soon"}, []string{"RIACHO_KAFKA_DIAL_TIMEOUT"}},
		{"dial timeout zero", map[string]string{"RIACHO_KAFKA_DIAL_TIMEOUT": "0s"}, []string{"RIACHO_KAFKA_DIAL_TIMEOUT"}},
		{"request timeout negative", map[string]string{"RIACHO_KAFKA_REQUEST_TIMEOUT": "-1s"}, []string{"RIACHO_KAFKA_REQUEST_TIMEOUT"}},
		{"ca file without tls", map[string]string{"RIACHO_KAFKA_TLS_CA_FILE": "/ca.pem"}, []string{"RIACHO_KAFKA_TLS_CA_FILE"}},
		{"insecure without tls", map[string]string{"RIACHO_KAFKA_TLS_INSECURE_SKIP_VERIFY": "true"}, []string{"RIACHO_KAFKA_TLS_INSECURE_SKIP_VERIFY"}},
		{"cert without key", map[string]string{"RIACHO_KAFKA_TLS": "true", "RIACHO_KAFKA_TLS_CERT_FILE": "/c.pem"}, []string{"RIACHO_KAFKA_TLS_KEY_FILE"}},
		{"key without cert", map[string]string{"RIACHO_KAFKA_TLS": "true", "RIACHO_KAFKA_TLS_KEY_FILE": "/k.pem"}, []string{"RIACHO_KAFKA_TLS_CERT_FILE"}},
		{"unknown mechanism", map[string]string{"RIACHO_KAFKA_SASL_MECHANISM": "GSSAPI"}, []string{"RIACHO_KAFKA_SASL_MECHANISM"}},
		{"mechanism without user or password", map[string]string{"RIACHO_KAFKA_SASL_MECHANISM": "PLAIN"},
			[]string{"RIACHO_KAFKA_SASL_USERNAME", "RIACHO_KAFKA_SASL_PASSWORD"}},
		{"password and file", map[string]string{
			"RIACHO_KAFKA_SASL_MECHANISM": "PLAIN", "RIACHO_KAFKA_SASL_USERNAME": "u",
			"RIACHO_KAFKA_SASL_PASSWORD": "p", "RIACHO_KAFKA_SASL_PASSWORD_FILE": "/f",
		}, []string{"RIACHO_KAFKA_SASL_PASSWORD and RIACHO_KAFKA_SASL_PASSWORD_FILE"}},
		{"sasl fields without mechanism", map[string]string{
			"RIACHO_KAFKA_SASL_USERNAME": "u", "RIACHO_KAFKA_SASL_PASSWORD": "hunter2", "RIACHO_KAFKA_SASL_PASSWORD_FILE": "/f",
		}, []string{"RIACHO_KAFKA_SASL_USERNAME", "RIACHO_KAFKA_SASL_PASSWORD:", "RIACHO_KAFKA_SASL_PASSWORD_FILE"}},
		{"every problem at once", map[string]string{
			"RIACHO_KAFKA_BROKERS": "nope", "RIACHO_KAFKA_DIAL_TIMEOUT": "0s", "RIACHO_KAFKA_TLS_CA_FILE": "/ca",
			"RIACHO_KAFKA_SASL_MECHANISM": "MD5",
		}, []string{"RIACHO_KAFKA_BROKERS", "RIACHO_KAFKA_DIAL_TIMEOUT", "RIACHO_KAFKA_TLS_CA_FILE", "RIACHO_KAFKA_SASL_MECHANISM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kafka.LoadConfig(context.Background(), envconfig.MapLookuper(tt.env))
			configtest.RequireNames(t, err, tt.want...)
			configtest.RequireNoSecret(t, err, "hunter2")
		})
	}
}

func TestConfigNeverPrintsPassword(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	cfg := kafka.DefaultConfig()
	cfg.SASLMechanism = kafka.SASLPlain
	cfg.SASLUsername = "alice"
	cfg.SASLPassword = secret

	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "kafka", cfg)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String": cfg.String(),
		"%v":     fmt.Sprintf("%v", cfg),
		"%+v":    fmt.Sprintf("%+v", cfg),
		"%#v":    fmt.Sprintf("%#v", cfg),
		"slog":   logBuf.String(),
		"json":   string(js),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s leaks the password: %s", name, out)
		}
		if name != "json" && !strings.Contains(out, "alice") {
			t.Errorf("%s lost the user name: %s", name, out)
		}
	}

	// Opts errors name the variable and file, never the content.
	cfg.SASLPassword = ""
	cfg.SASLPasswordFile = filepath.Join(t.TempDir(), "missing")
	_, err = cfg.Opts()
	if err == nil || !strings.Contains(err.Error(), "RIACHO_KAFKA_SASL_PASSWORD_FILE") {
		t.Fatalf("Opts with a missing password file: %v", err)
	}
}

func TestOptsReadsTLSFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := kafka.DefaultConfig()
	cfg.TLS = true
	cfg.TLSCAFile = filepath.Join(dir, "nope.pem")
	if _, err := cfg.Opts(); err == nil || !strings.Contains(err.Error(), "RIACHO_KAFKA_TLS_CA_FILE") {
		t.Fatalf("missing CA file: %v", err)
	}
	cfg.TLSCAFile = writeFile(t, dir, "garbage.pem", "not a certificate")
	if _, err := cfg.Opts(); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("garbage CA file: %v", err)
	}
}
