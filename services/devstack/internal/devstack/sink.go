package devstack

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/telemetry"
	sink "github.com/riacho/riacho/services/sink/app"
)

// DemoRotateInterval is how often the devstack's sink commits open files
// unless RIACHO_SINK_ROTATE_INTERVAL says otherwise: short, so that the
// demo's files appear within seconds (the service's own default is 1m).
const DemoRotateInterval = 10 * time.Second

// LakeDir is the lake directory the devstack's sink writes when --lake is
// not given: <data-dir>/lake.
func (o Options) LakeDir() string { return filepath.Join(o.DataDir, "lake") }

// lakeURL is the lake the sink writes: --lake, else <data-dir>/lake.
func (o Options) lakeURL() string {
	if o.Lake != "" {
		return o.Lake
	}
	return o.LakeDir()
}

// startSink runs the sink, writing every raw.* topic into the lake.
func (st *Stack) startSink(ctx context.Context, g *errgroup.Group) error {
	env := envList(st.env)
	if _, ok := st.env["RIACHO_SINK_ROTATE_INTERVAL"]; !ok {
		env = append(env, "RIACHO_SINK_ROTATE_INTERVAL="+DemoRotateInterval.String())
	}
	if _, ok := st.env["RIACHO_SINK_LAKE_URL"]; !ok || st.opts.Lake != "" {
		env = append(env, "RIACHO_SINK_LAKE_URL="+st.opts.lakeURL())
	}
	cfg, err := sink.LoadConfig(ctx, env)
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	cfg.Control.Addr = st.opts.SinkCtl
	cfg.OpsAddr = st.opts.SinkOps
	tel, err := telemetry.Setup(ctx, "sink", sink.Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("sink telemetry: %w", err)
	}
	svc, err := sink.New(ctx, cfg, sink.Deps{
		Logger:   st.log.With("service", "sink"),
		Registry: tel.Registry,
		Version:  sink.Version,
	})
	if err != nil {
		_ = tel.Shutdown(context.WithoutCancel(ctx))
		return fmt.Errorf("sink: %w", err)
	}
	st.sink = svc
	g.Go(func() error {
		defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
		if err := svc.Run(ctx); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
		return nil
	})
	if err := waitHTTP(ctx, "http://"+svc.OpsAddr()+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("sink did not become ready: %w", err)
	}
	return nil
}
