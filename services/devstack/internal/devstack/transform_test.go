package devstack

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStackTransformsDemoLeads runs devstack with demo traffic: the demo
// project's two models (Ploomes deal webhooks flattened into leads, then the
// seed's stg_ploomes_leads.sql) must put cleaned leads on
// staging.stg_ploomes_leads.
func TestStackTransformsDemoLeads(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	opts.DemoTraffic = true
	opts.Sink = false
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
	if banner := st.Banner(); !strings.Contains(banner, "transform gRPC Control") || !strings.Contains(banner, "staging.stg_ploomes_leads") {
		t.Errorf("banner lacks the transform:\n%s", banner)
	}
	eng := st.transform.Engine()
	var compiled string
	for _, m := range eng.Models() {
		if m.Name == "stg_ploomes_leads" {
			compiled = m.SQL
			if !strings.Contains(m.RawSQL, "{{ ref('raw_ploomes_leads') }}") || !strings.Contains(m.RawSQL, "CASE \n") {
				t.Errorf("the demo's model is not the seed's file:\n%s", m.RawSQL)
			}
		}
	}
	if !strings.Contains(compiled, `SELECT * FROM "ref__raw_ploomes_leads"`) {
		t.Fatalf("compiled stg_ploomes_leads:\n%s", compiled)
	}
	email := regexp.MustCompile(`^\S+@exemplo\.com\.br$`)
	deadline := time.Now().Add(90 * time.Second)
	for {
		recs, err := eng.Tail(ctx, "stg_ploomes_leads", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) >= 3 {
			for _, r := range recs {
				v := r.Value
				if e, _ := v["email"].(string); !email.MatchString(e) || e != strings.ToLower(e) {
					t.Errorf("lead %s: email %q is not trimmed lower case", r.Key, e)
				}
				if p, _ := v["phone"].(string); p != "" && !strings.HasPrefix(p, "*") {
					t.Errorf("lead %s: phone %q is not masked", r.Key, p)
				}
				switch v["status_ptbr"] {
				case "Convertido", "Perdido", "Em Andamento":
				default:
					t.Errorf("lead %s: status_ptbr %v", r.Key, v["status_ptbr"])
				}
				if d, _ := v["created_date"].(string); len(d) != len("2006-01-02") {
					t.Errorf("lead %s: created_date %v", r.Key, v["created_date"])
				}
			}
			var shown strings.Builder
			st.showStaging(ctx, &shown, DemoStagingModel, 3)
			if out := shown.String(); strings.Count(out, "status_ptbr") != 3 || !strings.Contains(out, "staging.stg_ploomes_leads") {
				t.Errorf("the demo's staging sample:\n%s", out)
			}
			t.Logf("staging sample:\n%s", shown.String())
			checkGate(t, ctx, st)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d staging leads after 90s; models: %+v", len(recs), eng.Status(ctx, true))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkGate waits for the quality gate to route the demo's staging leads:
// the seed's ASCII-only e-mail regex passes most and quarantines the
// accented pt-BR addresses.
func checkGate(t *testing.T, ctx context.Context, st *Stack) {
	t.Helper()
	var gate strings.Builder
	done := make(chan struct{})
	go func() { defer close(done); st.showGate(ctx, &gate, DemoStagingModel) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatalf("the gate did not route curated and quarantined leads: %+v", st.quality.Gate().Status())
	}
	out := gate.String()
	if !strings.Contains(out, "curated (curated.stg_ploomes_leads)") || !strings.Contains(out, "quarantined (quarantine.stg_ploomes_leads)") {
		t.Errorf("gate sample:\n%s", out)
	}
	t.Logf("gate sample:\n%s", out)
}
