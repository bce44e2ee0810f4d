package app

import (
	"context"
	"fmt"

	"github.com/riacho/riacho/libs/envconf"
	"github.com/riacho/riacho/libs/telemetry"
)

// DefaultControlAddr is the metrics service's gRPC address unless
// RIACHO_CONTROL_ADDR is set: riacho.metrics.v1.MetricsService and Control
// share it (Control calls need an operator token, metric queries a client
// of the access policy).
const DefaultControlAddr = "127.0.0.1:9106"

// Version is the build version, set with -ldflags "-X .../app.Version=...".
var Version = "dev"

// LoadConfig reads the configuration from environment entries ("KEY=value").
func LoadConfig(ctx context.Context, environ []string) (Config, error) {
	var cfg Config
	cfg.Control.Addr = DefaultControlAddr
	err := envconf.Load(ctx, environ, &cfg)
	return cfg, err
}

// Main runs the metrics service as a process until ctx ends.
func Main(ctx context.Context, environ []string) error {
	cfg, err := LoadConfig(ctx, environ)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "metrics", Version, cfg.Telemetry)
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
