package app

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"github.com/riacho/riacho/libs/telemetry"
)

// DefaultControlAddr is the CDC's gRPC Control address unless RIACHO_CONTROL_ADDR is set.
const DefaultControlAddr = "127.0.0.1:9102"

// Version is the build version, set with -ldflags "-X .../app.Version=...".
var Version = "dev"

// LoadConfig reads the configuration from environment entries ("KEY=value").
func LoadConfig(ctx context.Context, environ []string) (Config, error) {
	env := envMap(environ)
	var cfg Config
	cfg.Control.Addr = DefaultControlAddr
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   &cfg,
		Lookuper: envconfig.MapLookuper(env),
	}); err != nil {
		return cfg, fmt.Errorf("read configuration: %w", err)
	}
	return cfg, nil
}

func envMap(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// Main runs the CDC as a process: configuration from env, the sources file
// named by RIACHO_CDC_CONFIG, telemetry, capture until ctx ends.
func Main(ctx context.Context, environ []string) error {
	cfg, err := LoadConfig(ctx, environ)
	if err != nil {
		return err
	}
	if cfg.SourcesFile == "" {
		return fmt.Errorf("RIACHO_CDC_CONFIG must name the sources file (see docs/cdc.md)")
	}
	env := envMap(environ)
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	sources, err := LoadSources(cfg.SourcesFile, getenv)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "cdc", Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	svc, err := New(cfg, sources, Deps{Logger: tel.Logger, Registry: tel.Registry, Version: Version, Getenv: getenv})
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
