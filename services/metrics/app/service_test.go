package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/riacho/riacho/libs/pgtest"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
)

// TestSeedMRREndToEnd streams curated subscriptions through the loader into
// each warehouse and asks the seed's mrr (models/metrics/mrr.yml, as
// written) by month and customer_segment over gRPC: the answer equals the
// sums computed here, carries the freshness of fct_subscriptions, is cached,
// and changes when more records are loaded.
func TestSeedMRREndToEnd(t *testing.T) {
	for _, wh := range []struct{ name, dsn func(*testing.T) string }{
		{name: func(*testing.T) string { return "duckdb" }, dsn: func(t *testing.T) string { return "duckdb://" + filepath.Join(t.TempDir(), "w.duckdb") }},
		{name: func(*testing.T) string { return "postgres" }, dsn: func(t *testing.T) string { return pgtest.NewDatabase(t) }},
	} {
		t.Run(wh.name(t), func(t *testing.T) {
			b := startBroker(t)
			first := genSubs(1, 400)
			b.produce(t, first)
			r := startService(t, b, wh.dsn(t))
			ctx, cancel := context.WithTimeout(as(financeToken), time.Minute)
			defer cancel()
			req := &metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}
			want := expectedMRR(first)
			var got *answer
			waitFor(t, "the loaded mrr", func() bool {
				a, err := runQuery(ctx, r.cli, &metricsv1.QueryRequest{Metrics: req.Metrics, Grain: req.Grain, Dimensions: req.Dimensions, NoCache: true})
				if err != nil {
					t.Logf("query: %v", err)
					return false
				}
				got = a
				return diffMaps(want, a.byMonthSegment(t, "mrr")) == ""
			})
			if len(got.freshness) != 1 || got.freshness[0].GetModel() != "fct_subscriptions" {
				t.Fatalf("freshness %v", got.freshness)
			}
			var newest time.Time
			for _, s := range latest(first) {
				if s.Updated.After(newest) {
					newest = s.Updated
				}
			}
			if f := got.freshness[0].GetNewestEventTime().AsTime(); !f.Equal(newest.Truncate(time.Microsecond)) {
				t.Errorf("freshness newest event %s, want %s", f, newest)
			}
			// The same query again is answered from the cache, identically.
			a1, err := runQuery(ctx, r.cli, req)
			if err != nil {
				t.Fatal(err)
			}
			a2, err := runQuery(ctx, r.cli, req)
			if err != nil {
				t.Fatal(err)
			}
			if !a2.cached || diffMaps(a1.byMonthSegment(t, "mrr"), a2.byMonthSegment(t, "mrr")) != "" {
				t.Fatalf("second query cached=%v differs: %s", a2.cached, diffMaps(a1.byMonthSegment(t, "mrr"), a2.byMonthSegment(t, "mrr")))
			}
			// More records: the loader advances, the cache is invalidated, the answer changes.
			more := genSubs(2, 150)
			for i := range more {
				more[i].ID = "N" + more[i].ID
			}
			b.produce(t, more)
			all := append(append([]sub(nil), first...), more...)
			want = expectedMRR(all)
			waitFor(t, "the answer to change after the load", func() bool {
				a, err := runQuery(ctx, r.cli, req)
				if err != nil {
					t.Logf("query: %v", err)
					return false
				}
				return diffMaps(want, a.byMonthSegment(t, "mrr")) == ""
			})
			// Audit: who, what, rows.
			var entry map[string]any
			for _, line := range strings.Split(strings.TrimSpace(r.audit.String()), "\n") {
				if err := json.Unmarshal([]byte(line), &entry); err != nil {
					t.Fatalf("audit line %q: %v", line, err)
				}
			}
			if s := r.audit.String(); !strings.Contains(s, "finance-bi") || !strings.Contains(s, `"mrr"`) || !strings.Contains(s, "customer_segment") {
				t.Errorf("audit log lacks who/what: %s", s[:min(len(s), 600)])
			}
		})
	}
}

// TestAccessControl checks authentication and the roles' limits: the
// marketing client reads mrr by segment but not revenue by customer.
func TestAccessControl(t *testing.T) {
	b := startBroker(t)
	b.produce(t, genSubs(3, 400))
	r := startService(t, b, "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"))
	mrr := &metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}
	if _, err := runQuery(context.Background(), r.cli, mrr); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v, want Unauthenticated", err)
	}
	if _, err := runQuery(as("not-a-token"), r.cli, mrr); status.Code(err) != codes.Unauthenticated || strings.Contains(err.Error(), "not-a-token") {
		t.Errorf("wrong token: %v, want Unauthenticated without echoing the token", err)
	}
	if _, err := runQuery(as(marketingToken), r.cli, mrr); err != nil {
		t.Errorf("marketing reads mrr by segment: %v", err)
	}
	for _, req := range []*metricsv1.QueryRequest{
		{Metrics: []string{"revenue_by_customer"}, Grain: "month", Dimensions: []string{"customer_id"}},
		{Metrics: []string{"active_subscriptions"}, Grain: "month", Dimensions: []string{"customer_id"}},
		{Metrics: []string{"active_subscriptions"}, Filters: []*metricsv1.Filter{{Field: "customer_id", Operator: "=", Values: []string{"C001"}}}},
	} {
		_, err := runQuery(as(marketingToken), r.cli, req)
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("marketing %v: %v, want PermissionDenied", req, err)
		}
		if _, err := r.cli.Explain(as(marketingToken), req); status.Code(err) != codes.PermissionDenied {
			t.Errorf("marketing explain %v: %v, want PermissionDenied", req, err)
		}
	}
	// Finance reads revenue by customer: a large answer (customers × months on
	// the spine) arrives in several streamed messages, columns in the first.
	waitFor(t, "revenue by customer, streamed", func() bool {
		a, err := runQuery(as(financeToken), r.cli, &metricsv1.QueryRequest{Metrics: []string{"revenue_by_customer"}, Grain: "month", Dimensions: []string{"customer_id"}, NoCache: true})
		if err != nil {
			t.Fatalf("finance reads revenue by customer: %v", err)
		}
		return len(a.rows) > 500 && a.messages == (len(a.rows)+499)/500 && len(a.columns) == 3
	})
	// ListMetrics shows each client what it may query.
	lm, err := r.cli.ListMetrics(as(marketingToken), &metricsv1.ListMetricsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range lm.GetMetrics() {
		names = append(names, m.GetName())
	}
	if strings.Join(names, ",") != "active_subscriptions,mrr" {
		t.Errorf("marketing sees %v", names)
	}
	if _, err := r.cli.GetMetric(as(marketingToken), &metricsv1.GetMetricRequest{Name: "revenue_by_customer"}); status.Code(err) != codes.NotFound {
		t.Errorf("marketing GetMetric of a hidden metric: %v", err)
	}
	gm, err := r.cli.GetMetric(as(financeToken), &metricsv1.GetMetricRequest{Name: "mrr"})
	if err != nil {
		t.Fatal(err)
	}
	m := gm.GetMetric()
	if m.GetModel() != "fct_subscriptions" || m.GetCalculationMethod() != "sum" || m.GetExpression() != "monthly_value" ||
		strings.Join(m.GetTimeGrains(), ",") != "month,quarter,year" || len(m.GetFilters()) != 1 || m.GetFilters()[0].GetValue() != "true" {
		t.Errorf("mrr definition %v", m)
	}
	// Bad requests are InvalidArgument with a useful message.
	for _, tc := range []struct {
		req  *metricsv1.QueryRequest
		want string
	}{
		{&metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"country"}}, "country"},
		{&metricsv1.QueryRequest{Metrics: []string{"nope"}}, "nope"},
		{&metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "day"}, "day"},
		{&metricsv1.QueryRequest{}, "metric"},
	} {
		_, err := runQuery(as(financeToken), r.cli, tc.req)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want InvalidArgument naming %q", tc.req, err, tc.want)
		}
	}
	// Every query is audited, denials included.
	if a := r.audit.String(); !strings.Contains(a, "marketing-app") || !strings.Contains(a, "PermissionDenied") {
		t.Errorf("audit lacks the denial: %s", a[:min(len(a), 800)])
	}
}

// TestRESTGateway reads the same API as JSON.
func TestRESTGateway(t *testing.T) {
	b := startBroker(t)
	subs := genSubs(4, 120)
	b.produce(t, subs)
	r := startService(t, b, "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"))
	base := "http://" + r.svc.HTTPAddr()
	do := func(method, path, token, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	if code, _ := do("GET", "/v1/metrics", "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/metrics without a token: %d", code)
	}
	code, body := do("GET", "/v1/metrics/mrr", financeToken, "")
	if code != 200 || !strings.Contains(body, `"calculationMethod":"sum"`) {
		t.Errorf("GET /v1/metrics/mrr: %d %s", code, body)
	}
	want := expectedMRR(subs)
	waitFor(t, "the loaded mrr over REST", func() bool {
		code, body := do("POST", "/v1/metrics:query", financeToken, `{"metrics":["mrr"],"grain":"month","dimensions":["customer_segment"],"noCache":true}`)
		if code != 200 {
			return false
		}
		got := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(body))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var msg struct {
				Result struct {
					Rows []struct {
						Values []map[string]any `json:"values"`
					} `json:"rows"`
				} `json:"result"`
			}
			if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
				t.Fatalf("REST stream line %s: %v", sc.Text(), err)
			}
			for _, row := range msg.Result.Rows {
				if len(row.Values) != 3 || row.Values[2]["decimal"] == nil {
					continue
				}
				period, _ := time.Parse(time.RFC3339, row.Values[0]["time"].(string))
				got[period.Format("2006-01")+"|"+row.Values[1]["text"].(string)] = row.Values[2]["decimal"].(string)
			}
		}
		return diffMaps(want, got) == ""
	})
	if code, body := do("POST", "/v1/metrics:explain", marketingToken, `{"metrics":["revenue_by_customer"],"dimensions":["customer_id"]}`); code != http.StatusForbidden {
		t.Errorf("REST explain denied: %d %s", code, body)
	}
	code, body = do("POST", "/v1/metrics:explain", financeToken, `{"metrics":["mrr"],"grain":"month","dimensions":["customer_segment"]}`)
	if code != 200 || !strings.Contains(body, "fct_subscriptions") || !strings.Contains(strings.ToLower(body), "date_trunc") {
		t.Errorf("REST explain: %d %s", code, body)
	}
}

// TestWarehouseDownIsUnavailable: queries answer Unavailable while the
// PostgreSQL warehouse cannot be reached.
func TestWarehouseDownIsUnavailable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	r := startService(t, nil, dsn)
	req := &metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "month", NoCache: true}
	if _, err := runQuery(as(financeToken), r.cli, req); err != nil {
		t.Fatalf("query on an empty warehouse: %v", err)
	}
	// Take the database away: terminate its sessions and forbid new ones.
	admin := pgtest.Connect(t)
	name := dsn[strings.LastIndex(dsn, "/")+1:]
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	ctx := context.Background()
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" ALLOW_CONNECTIONS true")
	})
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name); err != nil {
		t.Fatal(err)
	}
	var err error
	waitFor(t, "Unavailable", func() bool {
		_, err = runQuery(as(financeToken), r.cli, req)
		return status.Code(err) == codes.Unavailable
	})
	if !strings.Contains(err.Error(), "warehouse") {
		t.Errorf("Unavailable message %q does not say what is down", err)
	}
	// Back up: answers again.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" ALLOW_CONNECTIONS true"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "answers after the warehouse is back", func() bool {
		_, err := runQuery(as(financeToken), r.cli, req)
		return err == nil
	})
}

// TestBrokenMetricFileIsRefusedWithFileAndField: a definition error names file, line and field.
func TestBrokenMetricFileIsRefusedWithFileAndField(t *testing.T) {
	dir := contentDir(t)
	bad := "version: 2\nmetrics:\n  - name: broken\n    model: ref('fct_subscriptions')\n    calculation_method: summ\n    expression: monthly_value\n"
	if err := os.WriteFile(filepath.Join(dir, "models", "metrics", "broken.yml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(context.Background(), []string{
		"RIACHO_CONTROL_INSECURE=true", "RIACHO_METRICS_INSECURE=true", "RIACHO_METRICS_LOADER=false",
		"RIACHO_METRICS_WAREHOUSE=duckdb::memory:",
		"RIACHO_METRICS_SCHEMA=" + filepath.Join(dir, "warehouse.yml"),
		"RIACHO_METRICS_DEFINITIONS=" + filepath.Join(dir, "models", "metrics"),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), cfg, Deps{})
	if err == nil || !strings.Contains(err.Error(), "broken.yml:5") || !strings.Contains(err.Error(), "calculation_method") {
		t.Fatalf("error %v does not name broken.yml:5 and calculation_method", err)
	}
}

// TestControlVerbs: explain, freshness and reload over Control on the same port.
func TestControlVerbs(t *testing.T) {
	b := startBroker(t)
	b.produce(t, genSubs(5, 30))
	r := startService(t, b, "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"))
	ctl := controlv1.NewControlClient(r.conn)
	ctx := as(ctlToken)
	if _, err := ctl.Status(as(financeToken), &controlv1.StatusRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("Control with a metrics client token: %v", err)
	}
	ex, err := ctl.Command(ctx, &controlv1.CommandRequest{Name: VerbExplain, Args: map[string]string{"metric": "mrr", "grain": "month", "dimensions": "customer_segment"}})
	if err != nil || !strings.Contains(ex.GetOutput(), "fct_subscriptions") {
		t.Fatalf("explain: %v %v", ex, err)
	}
	waitFor(t, "rows loaded", func() bool {
		fr, err := ctl.Command(ctx, &controlv1.CommandRequest{Name: VerbFreshness})
		return err == nil && fr.GetResult()["fct_subscriptions.rows"] != "0" && fr.GetResult()["fct_subscriptions.rows"] != ""
	})
	if _, err := ctl.Reload(ctx, &controlv1.ReloadRequest{}); err != nil {
		t.Errorf("reload: %v", err)
	}
	st, err := ctl.Status(ctx, &controlv1.StatusRequest{})
	if err != nil || st.GetDetails()["metrics"] != "4" {
		t.Errorf("status: %v %v", st.GetDetails(), err)
	}
	var table *controlv1.Freshness
	for _, f := range st.GetFreshness() {
		if f.GetName() == "fct_subscriptions" {
			table = f
		}
	}
	if table == nil || table.GetScope() != "table" || table.GetNewest() == nil || table.GetAge() == nil {
		t.Errorf("status freshness of fct_subscriptions = %v, want its newest event time and age (all: %v)", table, st.GetFreshness())
	}
}

// TestRollupAnswersOnceFresh: the declared rollup is rebuilt after the
// loader advances and then answers mrr by month (and, nesting, by quarter)
// with the base table's numbers; after more records arrive it is not used
// until rebuilt, and the answers stay right throughout.
func TestRollupAnswersOnceFresh(t *testing.T) {
	b := startBroker(t)
	subs := genSubs(7, 200)
	b.produce(t, subs)
	r := startService(t, b, "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"), "RIACHO_METRICS_ROLLUP_INTERVAL=1s")
	ctx := as(financeToken)
	req := &metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}, NoCache: true}
	want := expectedMRR(subs)
	waitFor(t, "an answer from the fresh rollup", func() bool {
		a, err := runQuery(ctx, r.cli, req)
		return err == nil && a.rollup == "rollup_mrr_month_segment" && diffMaps(want, a.byMonthSegment(t, "mrr")) == ""
	})
	q, err := runQuery(ctx, r.cli, &metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "quarter", NoCache: true})
	if err != nil || q.rollup != "rollup_mrr_month_segment" {
		t.Errorf("quarter from the month rollup: rollup %q, %v", q.rollup, err)
	}
	more := genSubs(8, 60)
	for i := range more {
		more[i].ID = "R" + more[i].ID
	}
	b.produce(t, more)
	want = expectedMRR(append(append([]sub(nil), subs...), more...))
	// Every answer is either from the base table or from a rollup rebuilt after
	// the load: never the old numbers once the new ones are visible.
	waitFor(t, "the new numbers", func() bool {
		a, err := runQuery(ctx, r.cli, req)
		return err == nil && diffMaps(want, a.byMonthSegment(t, "mrr")) == ""
	})
	waitFor(t, "the rebuilt rollup answering again", func() bool {
		a, err := runQuery(ctx, r.cli, req)
		if err != nil {
			return false
		}
		if got := a.byMonthSegment(t, "mrr"); diffMaps(want, got) != "" {
			t.Fatalf("answer went back to older numbers (rollup %q): %s", a.rollup, diffMaps(want, got))
		}
		return a.rollup == "rollup_mrr_month_segment"
	})
}
