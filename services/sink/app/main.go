package app

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/riacho/riacho/libs/telemetry"
)

// DefaultControlAddr is the sink's gRPC Control address unless RIACHO_CONTROL_ADDR is set.
const DefaultControlAddr = "127.0.0.1:9103"

// Version is the build version, set with -ldflags "-X .../app.Version=...".
var Version = "dev"

// LoadConfig reads the configuration from environment entries ("KEY=value").
func LoadConfig(ctx context.Context, environ []string) (Config, error) {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var cfg Config
	cfg.Control.Addr = DefaultControlAddr
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   &cfg,
		Lookuper: envconfig.MapLookuper(env),
	}); err != nil {
		return cfg, fmt.Errorf("read configuration: %s%w", envVarOf(err), err)
	}
	for i, f := range cfg.EventTimeFields {
		cfg.EventTimeFields[i] = strings.TrimSpace(f)
	}
	return cfg, nil
}

// envVarOf returns "RIACHO_X: " for a go-envconfig error that starts with a
// Config field name (its parse errors name the field, not the variable).
func envVarOf(err error) string {
	msg := err.Error()
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if !strings.HasPrefix(msg, f.Name+":") {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		return strings.TrimSpace(name) + ": "
	}
	return ""
}

// Main runs the sink as a process: configuration from env, telemetry, and
// the service until ctx ends.
func Main(ctx context.Context, environ []string) error {
	cfg, err := LoadConfig(ctx, environ)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "sink", Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	svc, err := New(ctx, cfg, Deps{Logger: tel.Logger, Registry: tel.Registry, Version: Version})
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
