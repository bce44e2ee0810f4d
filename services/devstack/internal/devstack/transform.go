package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/telemetry"
	"github.com/riacho/riacho/services/devstack/internal/demo"
	transform "github.com/riacho/riacho/services/transform/app"
)

// transformProject is the project the transform runs: --transform-project,
// else RIACHO_TRANSFORM_PROJECT, else the demo project written to
// <data-dir>/transform.
func (st *Stack) transformProject() (string, error) {
	if st.opts.TransformProject != "" {
		return st.opts.TransformProject, nil
	}
	if p := st.env["RIACHO_TRANSFORM_PROJECT"]; p != "" {
		return p, nil
	}
	return demo.WriteTransformProject(filepath.Join(st.opts.DataDir, "transform"))
}

// startTransform runs the transform on the project's models.
func (st *Stack) startTransform(ctx context.Context, g *errgroup.Group) error {
	dir, err := st.transformProject()
	if err != nil {
		return err
	}
	env := append(envList(st.env), "RIACHO_TRANSFORM_PROJECT="+dir)
	cfg, err := transform.LoadConfig(ctx, env)
	if err != nil {
		return fmt.Errorf("transform: %w", err)
	}
	cfg.Control.Addr = st.opts.TransformCtl
	cfg.OpsAddr = st.opts.TransformOps
	if _, ok := st.env["RIACHO_TRANSFORM_INSTANCE_ID"]; !ok {
		cfg.InstanceID = "devstack"
	}
	if _, ok := st.env["RIACHO_TRANSFORM_OUTPUT_PARTITIONS"]; !ok {
		cfg.OutputPartitions = 1
	}
	tel, err := telemetry.Setup(ctx, "transform", transform.Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("transform telemetry: %w", err)
	}
	svc, err := transform.New(ctx, cfg, transform.Deps{
		Logger:   st.log.With("service", "transform"),
		Registry: tel.Registry,
		Version:  transform.Version,
	})
	if err != nil {
		_ = tel.Shutdown(context.WithoutCancel(ctx))
		return fmt.Errorf("transform: %w", err)
	}
	st.transform = svc
	st.transformDir = dir
	g.Go(func() error {
		defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
		if err := svc.Run(ctx); err != nil {
			return fmt.Errorf("transform: %w", err)
		}
		return nil
	})
	if err := waitHTTP(ctx, "http://"+svc.OpsAddr()+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("transform did not become ready: %w", err)
	}
	return nil
}

// DemoStagingModel is the model whose output the demo prints once it has
// records: the seed's stg_ploomes_leads.
const DemoStagingModel = "stg_ploomes_leads"

// showStaging prints the first n committed records of model's output topic
// once they exist, so `make demo` shows staging data without another tool.
func (st *Stack) showStaging(ctx context.Context, w io.Writer, model string, n int) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		recs, err := st.transform.Engine().Tail(ctx, model, n)
		if err != nil || len(recs) < n {
			continue
		}
		fmt.Fprintf(w, "\nstaging.%s (the seed's model, read_committed):\n", model)
		for _, r := range recs {
			line, _ := json.Marshal(r.Value)
			fmt.Fprintf(w, "  key=%s  %s\n", r.Key, line)
		}
		fmt.Fprintf(w, "  (more: riachoctl --service transform --token <token> command tail model=%s n=20)\n", model)
		return
	}
}
