package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/riacho/riacho/libs/telemetry"
	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
	"github.com/riacho/riacho/services/devstack/internal/demo"
	metrics "github.com/riacho/riacho/services/metrics/app"
)

// metricsContent is the metrics content the service runs: --metrics-dir, else
// the demo's, written to <data-dir>/metrics.
func (st *Stack) metricsContent() (string, error) {
	if st.opts.MetricsDir != "" {
		return st.opts.MetricsDir, nil
	}
	return demo.WriteMetricsProject(filepath.Join(st.opts.DataDir, "metrics"))
}

// startMetrics runs the warehouse loader and the MetricsService.
func (st *Stack) startMetrics(ctx context.Context, g *errgroup.Group) error {
	dir, err := st.metricsContent()
	if err != nil {
		return err
	}
	wh := st.opts.Warehouse
	if wh == "" {
		abs, err := filepath.Abs(filepath.Join(st.opts.DataDir, "warehouse.duckdb"))
		if err != nil {
			return err
		}
		wh = "duckdb://" + abs
	}
	env := append(envList(st.env),
		"RIACHO_METRICS_WAREHOUSE="+wh,
		"RIACHO_METRICS_SCHEMA="+filepath.Join(dir, "warehouse.yml"),
		"RIACHO_METRICS_DEFINITIONS="+filepath.Join(dir, "models", "metrics"),
		"RIACHO_METRICS_POLICY="+filepath.Join(dir, "access.yml"),
		"RIACHO_METRICS_AUDIT_LOG="+filepath.Join(st.opts.DataDir, "metrics-audit.log"),
	)
	if _, ok := st.env["RIACHO_METRICS_ROLLUP_INTERVAL"]; !ok {
		env = append(env, "RIACHO_METRICS_ROLLUP_INTERVAL=10s")
	}
	cfg, err := metrics.LoadConfig(ctx, env)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	cfg.HTTPAddr, cfg.OpsAddr = st.opts.MetricsHTTP, st.opts.MetricsOps
	cfg.Control.Addr = st.opts.MetricsAddr
	tel, err := telemetry.Setup(ctx, "metrics", metrics.Version, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("metrics telemetry: %w", err)
	}
	svc, err := metrics.New(ctx, cfg, metrics.Deps{Logger: st.log.With("service", "metrics"), Registry: tel.Registry,
		Version: metrics.Version, Getenv: func(k string) string { return st.env[k] }})
	if err != nil {
		_ = tel.Shutdown(context.WithoutCancel(ctx))
		return fmt.Errorf("metrics: %w", err)
	}
	st.metrics, st.metricsDir = svc, dir
	g.Go(func() error {
		defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
		if err := svc.Run(ctx); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		return nil
	})
	if err := waitHTTP(ctx, "http://"+svc.OpsAddr()+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("metrics did not become ready: %w", err)
	}
	return nil
}

// QueryMRR asks the MetricsService for the architecture document's mrr by
// month and customer_segment, as the demo's finance client.
func (st *Stack) QueryMRR(ctx context.Context) ([]*metricsv1.QueryResponse, error) {
	conn, err := grpc.NewClient(st.opts.MetricsAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+st.env["RIACHO_METRICS_TOKEN_FINANCE"])
	stream, err := metricsv1.NewMetricsServiceClient(conn).Query(ctx, &metricsv1.QueryRequest{
		Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"},
	})
	if err != nil {
		return nil, err
	}
	var out []*metricsv1.QueryResponse
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

// showMetric prints, once the warehouse has subscriptions, the mrr answer
// and how to ask for it.
func (st *Stack) showMetric(ctx context.Context, w io.Writer) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		resp, err := st.QueryMRR(ctx)
		if err != nil || len(resp) == 0 || len(resp[0].GetRows()) == 0 {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\nmetric mrr (models/metrics/mrr.yml) by month and customer_segment, from the warehouse:\n")
		for _, r := range resp[0].GetRows() {
			var cells []string
			for _, v := range r.GetValues() {
				cells = append(cells, valueText(v))
			}
			fmt.Fprintf(&b, "  %s\n", strings.Join(cells, "  "))
		}
		for _, f := range resp[0].GetFreshness() {
			fmt.Fprintf(&b, "  freshness: %s newest event %s\n", f.GetModel(), f.GetNewestEventTime().AsTime().Format(time.RFC3339))
		}
		fmt.Fprintf(&b, "  (REST: curl -s -H 'Authorization: Bearer %s' -d '{\"metrics\":[\"mrr\"],\"grain\":\"month\",\"dimensions\":[\"customer_segment\"]}' http://%s/v1/metrics:query)\n",
			st.env["RIACHO_METRICS_TOKEN_FINANCE"], st.opts.MetricsHTTP)
		fmt.Fprint(w, b.String())
		return
	}
}

func valueText(v *metricsv1.Value) string {
	switch k := v.GetKind().(type) {
	case *metricsv1.Value_Null:
		return "null"
	case *metricsv1.Value_Decimal:
		return k.Decimal
	case *metricsv1.Value_Int:
		return fmt.Sprint(k.Int)
	case *metricsv1.Value_Float:
		return fmt.Sprint(k.Float)
	case *metricsv1.Value_Bool:
		return fmt.Sprint(k.Bool)
	case *metricsv1.Value_Text:
		return k.Text
	case *metricsv1.Value_Time:
		return k.Time.AsTime().Format("2006-01-02")
	}
	return "?"
}
