package telemetry_test

import (
	"github.com/riacho/riacho/libs/configtest"

	"context"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/riacho/riacho/libs/telemetry"
)

func TestLoadConfigDefaultsValidate(t *testing.T) {
	cfg, err := telemetry.LoadConfig(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogLevel != "info" || cfg.LogFormat != "json" || cfg.TraceSampleRatio != 1 || cfg.Endpoint() != "" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestLoadConfigEndpointPrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none", nil, ""},
		{"otel only", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4317"}, "http://otel:4317"},
		{"riacho only", map[string]string{"RIACHO_OTLP_ENDPOINT": "collector:4317"}, "collector:4317"},
		{"riacho wins", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4317",
			"RIACHO_OTLP_ENDPOINT":        "collector:4317",
		}, "collector:4317"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := telemetry.LoadConfig(context.Background(), envconfig.MapLookuper(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Endpoint(); got != tt.want {
				t.Fatalf("Endpoint() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	base := telemetry.Config{LogLevel: "info", LogFormat: "json", TraceSampleRatio: 1}
	tests := []struct {
		name    string
		mutate  func(*telemetry.Config)
		wantErr []string // substrings, all must appear; empty means valid
	}{
		{"valid", func(*telemetry.Config) {}, nil},
		{"text debug", func(c *telemetry.Config) { c.LogFormat = "text"; c.LogLevel = "debug" }, nil},
		{"url endpoint", func(c *telemetry.Config) { c.OTLPEndpoint = "https://collector.example:4317" }, nil},
		{"hostport endpoint", func(c *telemetry.Config) { c.OTELEndpoint = "collector:4317" }, nil},
		{"bad level", func(c *telemetry.Config) { c.LogLevel = "loud" }, []string{"RIACHO_LOG_LEVEL"}},
		{"bad format", func(c *telemetry.Config) { c.LogFormat = "xml" }, []string{"RIACHO_LOG_FORMAT"}},
		{"bad ratio", func(c *telemetry.Config) { c.TraceSampleRatio = 1.5 }, []string{"RIACHO_TRACE_SAMPLE_RATIO"}},
		{"bad otel endpoint", func(c *telemetry.Config) { c.OTELEndpoint = "collector" }, []string{"OTEL_EXPORTER_OTLP_ENDPOINT"}},
		{"bad scheme", func(c *telemetry.Config) { c.OTLPEndpoint = "grpc://x:1" }, []string{"RIACHO_OTLP_ENDPOINT"}},
		{"all bad at once", func(c *telemetry.Config) {
			c.LogLevel = "x"
			c.LogFormat = "y"
			c.TraceSampleRatio = -1
		}, []string{"RIACHO_LOG_LEVEL", "RIACHO_LOG_FORMAT", "RIACHO_TRACE_SAMPLE_RATIO"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			err := cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			configtest.RequireNames(t, err, tt.wantErr...)
		})
	}
}
