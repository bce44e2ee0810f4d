package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/riacho/riacho/libs/pgtest"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
	"github.com/riacho/riacho/services/riachoctl/cli"
)

// ctlRun is one riachoctl run's outcome.
type ctlRun struct {
	code           int
	stdout, stderr string
}

// TestRiachoctlDrivesTheStack runs the operator's CLI against the six running
// services: the pipeline status table, pause and resume, flush, compact,
// replay, snapshot, metrics query, and the
// errors for an unreachable service and a wrong token.
func TestRiachoctlDrivesTheStack(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.DemoTraffic = true
	opts.Metrics = true
	pgtest.RequireLogicalWAL(t, pgtest.Connect(t))
	opts.DemoPG = pgtest.NewDatabase(t)
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
	endpoints := fmt.Sprintf("intake=%s,cdc=%s,sink=%s,transform=%s,quality=%s,metrics=%s",
		opts.IntakeCtl, opts.CDCCtl, opts.SinkCtl, opts.TransformCtl, opts.QualityCtl, opts.MetricsAddr)
	t.Setenv(cli.TokenEnv, tokenFor(st.env["RIACHO_CONTROL_TOKENS"], "operator"))
	t.Setenv(cli.MetricsTokenEnv, st.env["RIACHO_METRICS_TOKEN_FINANCE"])
	ctl := func(args ...string) ctlRun {
		var out, errOut bytes.Buffer
		code := cli.Run(ctx, append([]string{"--endpoints", endpoints, "--timeout", "20s"}, args...), &out, &errOut)
		return ctlRun{code, out.String(), errOut.String()}
	}

	// The pipeline table: every service running, rates moving, the demo's
	// sources fresh.
	var last ctlRun
	waitUntil(t, 3*time.Minute, "every service running with rates and freshness", func() bool {
		last = ctl("status", "--output", "json")
		return last.code == 0 && pipelineReady(t, last.stdout)
	}, func() string { return last.stdout + last.stderr })
	table := ctl("status")
	t.Logf("riachoctl status:\n%s", table.stdout)
	for _, want := range []string{"SERVICE", "intake", "sink", "transform", "quality", "metrics", "RUNNING",
		"events_produced=", "records_written=", "records_curated=", "rows_loaded=", "NEWEST EVENT", "whatsapp", "5m0s", "fct_subscriptions"} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("status table lacks %q", want)
		}
	}

	// Pause and resume one service; the table shows it.
	if r := ctl("--service", "sink", "pause", "lake", "maintenance"); r.code != 0 || !strings.Contains(r.stdout, "PAUSED") {
		t.Fatalf("pause: %+v", r)
	}
	if r := ctl("status"); !strings.Contains(rowOf(r.stdout, "sink"), "PAUSED") {
		t.Errorf("status after pause:\n%s", r.stdout)
	}
	if r := ctl("--service", "sink", "resume"); r.code != 0 || !strings.Contains(r.stdout, "RUNNING") {
		t.Fatalf("resume: %+v", r)
	}

	// flush commits the open lake files; compact then merges today's.
	var flushed ctlRun
	waitUntil(t, time.Minute, "a flush that commits whatsapp records", func() bool {
		flushed = ctl("flush", "table=raw_whatsapp.messages", "--output", "json")
		var resp controlv1.CommandResponse
		return flushed.code == 0 && protojson.Unmarshal([]byte(flushed.stdout), &resp) == nil && resp.GetResult()["records"] != "0"
	}, func() string { return flushed.stdout + flushed.stderr })
	day := time.Now().UTC().Format(time.DateOnly)
	if r := ctl("compact", "table=raw_whatsapp.messages", "day="+day); r.code != 0 || !strings.Contains(r.stdout, "files") {
		t.Errorf("compact: %+v", r)
	}

	// replay reads a model's input again.
	if r := ctl("replay", "model=stg_ploomes_leads", "from_offset=0"); r.code != 0 {
		t.Errorf("replay: %+v", r)
	}
	if r := ctl("snapshot", "source="+DemoCDCSource, "table=demo.faturas"); r.code != 0 {
		t.Errorf("snapshot: %+v", r)
	}

	// metrics query: the seed's metric over gRPC, as a table and as JSON.
	var q ctlRun
	waitUntil(t, time.Minute, "an mrr answer", func() bool {
		q = ctl("metrics", "query", "mrr", "grain=month", "dimensions=customer_segment", "--output", "json")
		var resp metricsv1.QueryResponse
		return q.code == 0 && protojson.Unmarshal([]byte(q.stdout), &resp) == nil && len(resp.GetRows()) > 0
	}, func() string { return q.stdout + q.stderr })
	if r := ctl("metrics", "query", "mrr", "grain=month", "dimensions=customer_segment", "where=customer_segment in SMB,Enterprise,Mid-Market"); r.code != 0 ||
		!strings.Contains(r.stdout, "MRR") || !strings.Contains(r.stdout, "data: fct_subscriptions") {
		t.Errorf("metrics query table: %+v", r)
	}
	if r := ctl("metrics", "list"); r.code != 0 || !strings.Contains(r.stdout, "mrr") {
		t.Errorf("metrics list: %+v", r)
	}

	// Failures say what is wrong.
	dead := freeAddr(t)
	if r := ctl("--endpoints", "intake="+dead, "status"); r.code != cli.ExitFailed || !strings.Contains(r.stdout, "UNREACHABLE") ||
		!strings.Contains(r.stderr, "is the service running") {
		t.Errorf("unreachable intake: %+v", r)
	}
	if r := ctl("--token", "not-the-token", "--service", "sink", "status"); r.code != cli.ExitFailed || !strings.Contains(r.stderr, "Unauthenticated") {
		t.Errorf("wrong token: %+v", r)
	}
	if r := ctl("--metrics-token", "not-the-token", "metrics", "list"); r.code != cli.ExitFailed || !strings.Contains(r.stderr, "RIACHO_METRICS_TOKEN") {
		t.Errorf("wrong metrics token: %+v", r)
	}
}

// pipelineReady reads `status --output json` and reports whether every
// service runs, counters move, and the sources and the
// warehouse table have freshness.
func pipelineReady(t *testing.T, out string) bool {
	var entries []struct {
		Service  string          `json:"service"`
		Response json.RawMessage `json:"response"`
		Error    *struct{ Code string }
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("status json: %v\n%s", err, out)
	}
	seen := map[string]*controlv1.StatusResponse{}
	for _, e := range entries {
		if e.Error != nil {
			return false
		}
		var s controlv1.StatusResponse
		if err := protojson.Unmarshal(e.Response, &s); err != nil {
			t.Fatalf("%s status: %v", e.Service, err)
		}
		if s.GetState() != controlv1.State_STATE_RUNNING {
			return false
		}
		seen[e.Service] = &s
	}
	rate := func(svc, name string) bool {
		for _, r := range seen[svc].GetRates() {
			if r.GetName() == name && r.GetTotal() > 0 {
				return true
			}
		}
		return false
	}
	fresh := func(svc, name string) bool {
		for _, f := range seen[svc].GetFreshness() {
			if f.GetName() == name && f.GetNewest() != nil {
				return true
			}
		}
		return false
	}
	return rate("intake", "events_produced") && rate("cdc", "changes_produced") && rate("sink", "records_written") && rate("transform", "records_out") &&
		rate("quality", "records_curated") && rate("metrics", "rows_loaded") &&
		fresh("quality", "whatsapp") && fresh("quality", "ploomes") && fresh("metrics", "fct_subscriptions")
}

// rowOf returns the table line that starts with name.
func rowOf(table, name string) string {
	for line := range strings.SplitSeq(table, "\n") {
		if strings.HasPrefix(line, name+" ") {
			return line
		}
	}
	return ""
}

// waitUntil polls cond every 250ms until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s; last:\n%s", what, d, state())
		}
		time.Sleep(250 * time.Millisecond)
	}
}
