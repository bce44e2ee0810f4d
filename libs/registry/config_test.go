package registry

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

func TestDefaultConfig(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config is invalid: %v", err)
	}
	// The env tag defaults and DefaultConfig agree.
	fromEnv, err := LoadConfig(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatal(err)
	}
	if fromEnv != DefaultConfig() {
		t.Fatalf("env defaults %+v differ from DefaultConfig %+v", fromEnv, DefaultConfig())
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"RIACHO_REGISTRY_TOPIC":         "_riacho_schemas",
		"RIACHO_REGISTRY_COMPATIBILITY": "FULL",
		"RIACHO_REGISTRY_WRITE_TIMEOUT": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Topic != "_riacho_schemas" || cfg.DefaultCompatibility != Full || cfg.WriteTimeout != 3*time.Second {
		t.Fatalf("loaded %+v", cfg)
	}
	if _, err := LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"RIACHO_REGISTRY_WRITE_TIMEOUT": "soon",
	})); err == nil {
		t.Fatal("bad duration accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	bad := Config{
		Addr:                 "nowhere",
		Topic:                "bad topic!",
		ReplicationFactor:    0,
		DefaultCompatibility: "backward",
		StartTimeout:         0,
		WriteTimeout:         -time.Second,
		ShutdownTimeout:      0,
		MaxBodyBytes:         10,
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, name := range []string{
		"RIACHO_REGISTRY_ADDR", "RIACHO_REGISTRY_TOPIC", "RIACHO_REGISTRY_REPLICATION_FACTOR",
		"RIACHO_REGISTRY_COMPATIBILITY", "RIACHO_REGISTRY_START_TIMEOUT", "RIACHO_REGISTRY_WRITE_TIMEOUT",
		"RIACHO_REGISTRY_SHUTDOWN_TIMEOUT", "RIACHO_REGISTRY_MAX_BODY_BYTES",
	} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}

	topics := []struct {
		topic string
		ok    bool
	}{
		{"_schemas", true}, {"a.b-c_D9", true}, {"", false}, {".", false}, {"..", false},
		{strings.Repeat("a", 250), false}, {"é", false},
	}
	for _, tt := range topics {
		t.Run("topic "+tt.topic, func(t *testing.T) {
			if err := validTopic(tt.topic); (err == nil) != tt.ok {
				t.Fatalf("validTopic(%q) = %v, want ok=%v", tt.topic, err, tt.ok)
			}
		})
	}
	if _, err := New(nil, DefaultConfig(), nil, nil); err == nil {
		t.Fatal("New without brokers succeeded")
	}
	if _, err := New([]string{"127.0.0.1:1"}, bad, nil, nil); err == nil {
		t.Fatal("New with an invalid config succeeded")
	}
	for _, l := range Levels() {
		if !ValidLevel(l) {
			t.Errorf("level %s is not valid", l)
		}
	}
	if ValidLevel("full") {
		t.Error("lower-case level is valid")
	}
}
