package app

import (
	"context"
	"fmt"

	"github.com/riacho/riacho/libs/envconf"
	"github.com/riacho/riacho/libs/telemetry"
)

// DefaultControlAddr is the intake's gRPC Control address unless RIACHO_CONTROL_ADDR is set.
const DefaultControlAddr = "127.0.0.1:9101"

// Version is the build version, set with -ldflags "-X .../app.Version=...".
var Version = "dev"

// LoadConfig reads the configuration from environment entries ("KEY=value").
func LoadConfig(ctx context.Context, environ []string) (Config, error) {
	var cfg Config
	cfg.Control.Addr = DefaultControlAddr
	err := envconf.Load(ctx, environ, &cfg)
	return cfg, err
}

// Main runs the intake as a process: configuration from env, telemetry, serve until ctx ends.
// Unless GOGC is set, it first sets the GC target to DefaultGCPercent (see TuneGC).
func Main(ctx context.Context, environ []string) error {
	TuneGC(environ)
	cfg, err := LoadConfig(ctx, environ)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "intake", Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	svc, err := New(cfg, Deps{
		Logger:         tel.Logger,
		Registry:       tel.Registry,
		TracerProvider: tel.TracerProvider,
		Propagator:     tel.Propagator,
		Version:        Version,
	})
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}
