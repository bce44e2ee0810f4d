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
	quality "github.com/riacho/riacho/services/quality/app"
)

// qualitySuites is the suites directory the quality service runs:
// --quality-suites, else RIACHO_QUALITY_SUITES, else the demo suites
// written to <data-dir>/quality.
func (st *Stack) qualitySuites() (string, error) {
	if st.opts.QualitySuites != "" {
		return st.opts.QualitySuites, nil
	}
	if p := st.env["RIACHO_QUALITY_SUITES"]; p != "" {
		return p, nil
	}
	return demo.WriteQualitySuites(filepath.Join(st.opts.DataDir, "quality"))
}

// startQuality runs the quality gate on the suites.
func (st *Stack) startQuality(ctx context.Context, g *errgroup.Group) error {
	dir, err := st.qualitySuites()
	if err != nil {
		return err
	}
	env := append(envList(st.env), "RIACHO_QUALITY_SUITES="+dir)
	if _, ok := st.env["RIACHO_QUALITY_WINDOW"]; !ok {
		env = append(env, "RIACHO_QUALITY_WINDOW=10s")
	}
	cfg, err := quality.LoadConfig(ctx, env)
	if err != nil {
		return fmt.Errorf("quality: %w", err)
	}
	cfg.Control.Addr = st.opts.QualityCtl
	cfg.OpsAddr = st.opts.QualityOps
	if _, ok := st.env["RIACHO_QUALITY_INSTANCE_ID"]; !ok {
		cfg.InstanceID = "devstack"
	}
	if _, ok := st.env["RIACHO_QUALITY_OUTPUT_PARTITIONS"]; !ok {
		cfg.OutputPartitions = 1
	}
	tel, err := telemetry.Setup(ctx, "quality", quality.Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("quality telemetry: %w", err)
	}
	svc, err := quality.New(ctx, cfg, quality.Deps{Logger: st.log.With("service", "quality"), Registry: tel.Registry, Version: quality.Version})
	if err != nil {
		_ = tel.Shutdown(context.WithoutCancel(ctx))
		return fmt.Errorf("quality: %w", err)
	}
	st.quality, st.qualityDir = svc, dir
	g.Go(func() error {
		defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
		if err := svc.Run(ctx); err != nil {
			return fmt.Errorf("quality: %w", err)
		}
		return nil
	})
	if err := waitHTTP(ctx, "http://"+svc.OpsAddr()+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("quality did not become ready: %w", err)
	}
	return nil
}

// showGate prints, once the demo's model has curated and quarantined
// records, how many of each and the reasons of the first quarantined one.
func (st *Stack) showGate(ctx context.Context, w io.Writer, model string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range st.quality.Gate().Status() {
			if s.Model != model || s.Curated == 0 || s.Quarantined == 0 {
				continue
			}
			fmt.Fprintf(w, "\nquality gate on staging.%s: %d curated (curated.%s), %d quarantined (quarantine.%s)\n",
				model, s.Curated, model, s.Quarantined, model)
			for name, r := range s.Latest {
				j, _ := json.Marshal(r.Statistics)
				fmt.Fprintf(w, "  latest window of suite %s: success=%v %s\n", name, r.Success, j)
			}
			fmt.Fprintf(w, "  (more: riachoctl --service quality --token <token> command results model=%s)\n", model)
			return
		}
	}
}
