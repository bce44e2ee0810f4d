package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

const testToken = "ctl-token"

const leadSchema = `{"type":"record","name":"Lead","namespace":"riacho.raw.ploomes","fields":[
 {"name":"lead_id","type":"long"},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"phone","type":["null","string"],"default":null},
 {"name":"created_at","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"status","type":"string"}]}`

// project is a small project: the seed-like staging model and a mart on it.
var testProject = map[string]string{
	"dbt_project.yml": "name: svc_test\nversion: '1.0'\nconfig-version: 2\nvars:\n  won: Won\n",
	"models/sources.yml": `version: 2
sources:
  - name: ploomes
    tables:
      - name: leads
`,
	"models/staging/stg_leads.sql": `{{ config(unique_key='lead_id') }}
SELECT lead_id, TRIM(LOWER(email)) AS email, status = '{{ var("won") }}' AS won
FROM {{ source('ploomes', 'leads') }}
WHERE email IS NOT NULL
`,
	"models/marts/won_leads.sql": "{{ config(unique_key='lead_id') }}\nSELECT lead_id, email FROM {{ ref('stg_leads') }} WHERE won\n",
}

type harness struct {
	t      *testing.T
	kc     *kafkatest.Cluster
	enc    *avro.Encoder
	prod   *kafka.Producer
	regURL string
	svc    *Service
	cancel context.CancelFunc
	done   chan error
	ctl    controlv1.ControlClient
	// extraEnv is appended to env's entries.
	extraEnv []string
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, kc: kafkatest.NewCluster(t), done: make(chan error, 1)}
	reg, err := registry.New(h.kc.Addrs(), registry.DefaultConfig(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(func() { srv.Close(); reg.Close() })
	h.regURL = srv.URL
	rc, err := avro.NewClient(avro.RegistryConfig{URL: srv.URL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	if h.enc, err = avro.NewSerde(rc).Encoder(ctx, "raw.ploomes.leads-value", leadSchema); err != nil {
		t.Fatal(err)
	}
	h.prod, err = kafka.NewProducer(h.kc.Config(), kafka.ProducerOptions{Linger: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	h.kc.CreateTopic(t, "raw.ploomes.leads", 1)
	return h
}

func (h *harness) env(projectDir string) []string {
	return append([]string{
		"RIACHO_TRANSFORM_OPS_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_TOKENS=ops:" + testToken,
		"RIACHO_KAFKA_BROKERS=" + h.kc.Addrs()[0],
		"RIACHO_SCHEMA_REGISTRY_URL=" + h.regURL,
		"RIACHO_TRANSFORM_PROJECT=" + projectDir,
		"RIACHO_TRANSFORM_INSTANCE_ID=svc-test",
		"RIACHO_TRANSFORM_SESSION_TIMEOUT=6s",
		"RIACHO_TRANSFORM_REBALANCE_TIMEOUT=10s",
	}, h.extraEnv...)
}

func (h *harness) start(projectDir string) {
	h.t.Helper()
	cfg, err := LoadConfig(context.Background(), h.env(projectDir))
	if err != nil {
		h.t.Fatal(err)
	}
	h.svc, err = New(context.Background(), cfg, Deps{Logger: testlog.New(h.t, slog.LevelWarn), Version: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	h.cancel = rcancel
	go func() { h.done <- h.svc.Run(rctx) }()
	h.t.Cleanup(h.stop)
	conn, err := grpc.NewClient(h.svc.ControlAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	h.ctl = controlv1.NewControlClient(conn)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("service stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		h.t.Error("service did not stop within 60s")
	}
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h.t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testToken)
}

func (h *harness) command(name string, args map[string]string) (*controlv1.CommandResponse, error) {
	return h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: name, Args: args})
}

func (h *harness) mustCommand(name string, args map[string]string) *controlv1.CommandResponse {
	h.t.Helper()
	resp, err := h.command(name, args)
	if err != nil {
		h.t.Fatalf("%s %v: %v", name, args, err)
	}
	return resp
}

func (h *harness) produce(ids []int64, status string) {
	h.t.Helper()
	var recs []*kgo.Record
	for _, id := range ids {
		v, err := h.enc.Encode(map[string]any{"lead_id": id, "email": map[string]any{"string": " L@X.com"}, "phone": nil,
			"created_at": time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), "status": status})
		if err != nil {
			h.t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "raw.ploomes.leads", Value: v})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.prod.ProduceAll(ctx, recs); err != nil {
		h.t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServiceRunsModelsAndAnswersControl drives the service over gRPC
// Control: the models verb shows the DAG, compiled shows SQL, tail shows
// output, one model pauses and resumes, a replay re-runs the input, and
// /metrics counts.
func TestServiceRunsModelsAndAnswersControl(t *testing.T) {
	h := newHarness(t)
	h.start(writeFiles(t, testProject))
	h.produce([]int64{1, 2, 3}, "Won")

	waitFor(t, "three won leads", func() bool {
		return h.mustCommand(VerbTail, map[string]string{"model": "won_leads", "n": "10"}).Result["count"] == "3"
	})
	models := h.mustCommand(VerbModels, nil)
	if models.Result["count"] != "2" || models.Result["won_leads.depends_on"] != "stg_leads" ||
		models.Result["stg_leads.input"] != "raw.ploomes.leads" || models.Result["won_leads.input"] != "staging.stg_leads" ||
		models.Result["won_leads.records_out"] != "3" {
		t.Errorf("models: %v\n%s", models.Result, models.Output)
	}
	compiled := h.mustCommand(VerbCompiled, map[string]string{"model": "stg_leads"})
	if !strings.Contains(compiled.Output, `status = 'Won' AS won`) || !strings.Contains(compiled.Output, `FROM "src__ploomes__leads"`) {
		t.Errorf("compiled SQL:\n%s", compiled.Output)
	}
	tail := h.mustCommand(VerbTail, map[string]string{"model": "won_leads", "n": "1"})
	if !strings.Contains(tail.Output, `"email":"l@x.com"`) {
		t.Errorf("tail: %s", tail.Output)
	}

	h.mustCommand(VerbPause, map[string]string{"model": "won_leads"})
	h.produce([]int64{4}, "Won")
	waitFor(t, "stg_leads to read lead 4", func() bool {
		return h.mustCommand(VerbModels, nil).Result["stg_leads.records_out"] == "4"
	})
	if r := h.mustCommand(VerbModels, nil).Result; r["won_leads.paused"] != "true" || r["won_leads.records_out"] != "3" {
		t.Errorf("paused model: %v", r)
	}
	h.mustCommand(VerbResume, map[string]string{"model": "won_leads"})
	waitFor(t, "lead 4 after resume", func() bool {
		return h.mustCommand(VerbModels, nil).Result["won_leads.records_out"] == "4"
	})

	// Replaying identical input drops every row as a duplicate.
	replay := h.mustCommand(VerbReplay, map[string]string{"model": "stg_leads", "from_offset": "0"})
	if replay.Result["partition.0"] != "0" {
		t.Errorf("replay: %v", replay.Result)
	}
	waitFor(t, "the replayed rows to be dropped", func() bool {
		st, err := h.ctl.Status(h.ctx(), &controlv1.StatusRequest{})
		return err == nil && st.Details["model.stg_leads.duplicates_dropped"] == "4"
	})

	resp, err := http.Get("http://" + h.svc.OpsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`riacho_transform_records_out_total{model="won_leads"} 4`, `riacho_transform_duplicates_dropped_total{model="stg_leads"} 4`,
		`riacho_transform_transactions_total{model="stg_leads",result="committed"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestControlErrors(t *testing.T) {
	h := newHarness(t)
	h.start(writeFiles(t, testProject))
	for _, tc := range []struct {
		verb string
		args map[string]string
		code codes.Code
	}{
		{VerbCompiled, nil, codes.InvalidArgument},
		{VerbCompiled, map[string]string{"model": "nope"}, codes.NotFound},
		{VerbPause, map[string]string{"model": "nope"}, codes.NotFound},
		{VerbReplay, map[string]string{"model": "stg_leads"}, codes.InvalidArgument},
		{VerbReplay, map[string]string{"model": "stg_leads", "from_offset": "x"}, codes.InvalidArgument},
		{VerbReplay, map[string]string{"model": "stg_leads", "from_time": "yesterday"}, codes.InvalidArgument},
		{VerbReplay, map[string]string{"model": "stg_leads", "from_offset": "0", "from_time": "2026-01-01T00:00:00Z"}, codes.InvalidArgument},
		{VerbReplay, map[string]string{"model": "stg_leads", "from_offset": "0", "partitions": "7"}, codes.InvalidArgument},
		{VerbTail, map[string]string{"model": "stg_leads", "n": "0"}, codes.InvalidArgument},
	} {
		_, err := h.command(tc.verb, tc.args)
		if status.Code(err) != tc.code {
			t.Errorf("%s %v: %v, want code %s", tc.verb, tc.args, err, tc.code)
		}
	}
}

func TestBrokenProjectIsRefusedWithFileAndLine(t *testing.T) {
	h := newHarness(t)
	files := map[string]string{}
	for k, v := range testProject {
		files[k] = v
	}
	files["models/marts/won_leads.sql"] = "SELECT *\nFROM {{ ref('stg_leads') }}\nWHERE {{ unknown_macro() }}\n"
	dir := writeFiles(t, files)
	cfg, err := LoadConfig(context.Background(), h.env(dir))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), cfg, Deps{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), filepath.Join("models", "marts", "won_leads.sql")+":3:") {
		t.Fatalf("error %v does not name models/marts/won_leads.sql:3", err)
	}
}
