package devstack

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestStackAnswersTheSeedMRR runs the whole chain on demo traffic: Ploomes
// deals → raw → the transform's fct_subscriptions → the quality gate →
// curated.fct_subscriptions → the warehouse loader (DuckDB) → the seed's
// mrr by month and customer_segment over gRPC, with freshness.
func TestStackAnswersTheSeedMRR(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	opts.DemoTraffic = true
	opts.Sink = false
	opts.Metrics = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := Start(ctx, opts, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if banner := st.Banner(); !strings.Contains(banner, "riacho.metrics.v1.MetricsService") || !strings.Contains(banner, "/v1/metrics:query") {
		t.Errorf("banner lacks the metrics service:\n%s", banner)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := st.QueryMRR(ctx)
		if err == nil && len(resp) > 0 && len(resp[0].GetRows()) > 0 {
			first := resp[0]
			if len(first.GetFreshness()) != 1 || first.GetFreshness()[0].GetModel() != "fct_subscriptions" ||
				first.GetFreshness()[0].GetNewestEventTime() == nil {
				t.Errorf("freshness %v", first.GetFreshness())
			}
			for _, row := range first.GetRows() {
				v := row.GetValues()
				if len(v) != 3 {
					t.Fatalf("row %v: want period, customer_segment, mrr", v)
				}
				switch seg := v[1].GetText(); seg {
				case "SMB", "Mid-Market", "Enterprise":
				default:
					t.Errorf("segment %q", seg)
				}
				if v[0].GetTime() == nil || (!v[2].GetNull() && v[2].GetDecimal() == "") {
					t.Errorf("row %v: want a period and a decimal mrr", v)
				}
			}
			var shown strings.Builder
			st.showMetric(ctx, &shown)
			if !strings.Contains(shown.String(), "metric mrr") || !strings.Contains(shown.String(), "freshness: fct_subscriptions") {
				t.Errorf("the demo's metric output:\n%s", shown.String())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mrr answer from the demo chain: %v %v", resp, err)
		}
		time.Sleep(time.Second)
	}
}
