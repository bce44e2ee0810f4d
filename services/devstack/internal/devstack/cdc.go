package devstack

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/telemetry"
	cdc "github.com/riacho/riacho/services/cdc/app"
	"github.com/riacho/riacho/services/devstack/internal/demo"
)

// DemoCDCSource is the source name of the demo table's topics: raw.erp.demo.faturas.
const DemoCDCSource = "erp"

// demoSources is the CDC sources file devstack uses for the demo table.
// The slot and publication names carry the database name: slot names are
// global to a PostgreSQL server.
func demoSources(pgURL string) ([]byte, error) {
	u, err := url.Parse(pgURL)
	if err != nil {
		return nil, fmt.Errorf("--demo-pg: %w", err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		db = "postgres"
	}
	ident := "riacho_devstack_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(db))
	return fmt.Appendf(nil, `sources:
  - name: %s
    postgres:
      url: %q
      include: [%s]
      slot: %s
      publication: %s
      heartbeat: 5s
`, DemoCDCSource, pgURL, demo.InvoiceTable, ident, ident), nil
}

// cdcSources finds what the CDC should capture: the --cdc-config file, or
// with demo traffic the demo table when its database is reachable. No
// sources (with the reason in st.cdcNote) means no CDC.
func (st *Stack) cdcSources(ctx context.Context) ([]cdc.Source, error) {
	o := st.opts
	getenv := func(k string) string {
		if v, ok := st.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	if o.CDCConfig == "" {
		o.CDCConfig = st.env["RIACHO_CDC_CONFIG"]
	}
	if o.CDCConfig != "" {
		return cdc.LoadSources(o.CDCConfig, getenv)
	}
	if !o.DemoTraffic || o.DemoPG == "" || o.DemoPG == "off" {
		st.cdcNote = "no sources configured (--cdc-config)"
		return nil, nil
	}
	pg := demo.NewPGDemo(o.DemoPG, o.DemoInterval, st.log)
	if err := pg.Setup(ctx); err != nil {
		st.cdcNote = "demo database not captured: " + err.Error()
		st.log.Warn("CDC not started", "reason", st.cdcNote)
		return nil, nil //nolint:nilerr // an unreachable demo database only leaves the CDC out of the demo

	}
	st.pgDemo = pg
	file, err := demoSources(o.DemoPG)
	if err != nil {
		return nil, err
	}
	return cdc.ParseSources("devstack demo sources", file, getenv)
}

// startCDC runs the CDC service when there is something to capture.
func (st *Stack) startCDC(ctx context.Context, g *errgroup.Group) error {
	sources, err := st.cdcSources(ctx)
	if err != nil || len(sources) == 0 {
		return err
	}
	cfg, err := cdc.LoadConfig(ctx, envList(st.env))
	if err != nil {
		return err
	}
	cfg.Control.Addr = st.opts.CDCCtl
	cfg.OpsAddr = st.opts.CDCOps
	cfg.TopicPartitions = 1
	tel, err := telemetry.Setup(ctx, "cdc", cdc.Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("cdc telemetry: %w", err)
	}
	svc, err := cdc.New(cfg, sources, cdc.Deps{
		Logger:   st.log.With("service", "cdc"),
		Registry: tel.Registry,
		Version:  cdc.Version,
	})
	if err != nil {
		return fmt.Errorf("cdc: %w", err)
	}
	st.cdc = svc
	g.Go(func() error {
		defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
		if err := svc.Run(ctx); err != nil {
			return fmt.Errorf("cdc: %w", err)
		}
		return nil
	})
	if st.pgDemo != nil && st.opts.DemoTraffic {
		g.Go(func() error { st.pgDemo.Run(ctx); return nil })
	}
	if err := waitHTTP(ctx, "http://"+svc.OpsAddr()+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("cdc did not become ready: %w", err)
	}
	return nil
}
