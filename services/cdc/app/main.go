package app

import (
	"context"
	"fmt"
	"os"

	"github.com/riacho/riacho/libs/envconf"
	"github.com/riacho/riacho/libs/telemetry"
)

// DefaultControlAddr is the CDC's gRPC Control address unless RIACHO_CONTROL_ADDR is set.
const DefaultControlAddr = "127.0.0.1:9102"

// Version is the build version, set with -ldflags "-X .../app.Version=...".
var Version = "dev"

// LoadConfig reads the configuration from environment entries ("KEY=value").
func LoadConfig(ctx context.Context, environ []string) (Config, error) {
	var cfg Config
	cfg.Control.Addr = DefaultControlAddr
	err := envconf.Load(ctx, environ, &cfg)
	return cfg, err
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
	env := envconf.Map(environ)
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
