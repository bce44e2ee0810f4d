package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/riacho/riacho/libs/telemetry"
)

func TestNewLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	logger, err := telemetry.NewLogger(&buf, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("hello", "n", 3)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	if line["level"] != "DEBUG" || line["msg"] != "hello" || line["n"] != float64(3) {
		t.Fatalf("unexpected line: %v", line)
	}
}

func TestNewLoggerLevelsAndFormats(t *testing.T) {
	tests := []struct {
		level, format string
		wantDebug     bool
		wantErr       bool
		wantPrefix    string
	}{
		{"", "", false, false, "{"},
		{"info", "json", false, false, "{"},
		{"DEBUG", "text", true, false, "time="},
		{"error", "json", false, false, ""},
		{"verbose", "json", false, true, ""},
		{"info", "yaml", false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.level+"/"+tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			logger, err := telemetry.NewLogger(&buf, tt.level, tt.format)
			if tt.wantErr {
				if !errors.Is(err, telemetry.ErrInvalidLogConfig) {
					t.Fatalf("err = %v, want ErrInvalidLogConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			logger.Debug("d")
			if got := strings.Contains(buf.String(), "msg=d") || strings.Contains(buf.String(), `"msg":"d"`); got != tt.wantDebug {
				t.Fatalf("debug logged = %v, want %v (%q)", got, tt.wantDebug, buf.String())
			}
			buf.Reset()
			logger.Warn("w")
			if !strings.HasPrefix(buf.String(), tt.wantPrefix) {
				t.Fatalf("output %q does not start with %q", buf.String(), tt.wantPrefix)
			}
		})
	}
}

func TestSetupLoggerHasService(t *testing.T) {
	var buf bytes.Buffer
	tel, err := telemetry.Setup(context.Background(), "intake", "v1.2.3", telemetry.Config{
		LogLevel: "info", LogFormat: "json", TraceSampleRatio: 1, LogOutput: &buf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	tel.Logger.Info("started")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	for k, want := range map[string]string{"level": "INFO", "msg": "started", "service": "intake"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %q (line %v)", k, line[k], want, line)
		}
	}
}

func TestSetupServiceNameOverride(t *testing.T) {
	var buf bytes.Buffer
	tel, err := telemetry.Setup(context.Background(), "intake", "v1", telemetry.Config{
		TraceSampleRatio: 1, ServiceName: "intake-eu", LogOutput: &buf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	tel.Logger.Info("x")
	if !strings.Contains(buf.String(), `"service":"intake-eu"`) {
		t.Fatalf("override not applied: %q", buf.String())
	}
}

func TestRedaction(t *testing.T) {
	const secret = "s3cr3t-value"
	var buf bytes.Buffer
	logger, err := telemetry.NewLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("redaction",
		"password", secret,
		"api_token", secret,
		"Authorization", "Bearer "+secret,
		"wrapped", telemetry.Secret(secret),
		"dsn", "postgres://riacho:"+secret+"@127.0.0.1:5432/db",
		"plain", "visible",
	)
	logger.WithGroup("kafka").Info("grouped", "sasl_password", secret)
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Fatalf("secret leaked: %s", out)
	}
	if !strings.Contains(out, `"plain":"visible"`) || !strings.Contains(out, "127.0.0.1:5432") {
		t.Fatalf("non-secret data lost: %s", out)
	}
	if n := strings.Count(out, telemetry.Redacted); n < 5 {
		t.Fatalf("expected at least 5 redactions, got %d: %s", n, out)
	}
	if s := fmt.Sprintf("%v %s %#v", telemetry.Secret(secret), telemetry.Secret(secret), telemetry.Secret(secret)); strings.Contains(s, secret) {
		t.Fatalf("fmt leaked the secret: %s", s)
	}
	if b, _ := json.Marshal(struct{ S telemetry.Secret }{telemetry.Secret(secret)}); strings.Contains(string(b), secret) {
		t.Fatalf("json leaked the secret: %s", b)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"http://h/x", "http://h/x"},
		{"not a url %%%", "not a url %%%"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := telemetry.RedactURL(tt.in); got != tt.want {
				t.Fatalf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
