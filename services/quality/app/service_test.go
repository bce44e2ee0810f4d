package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

const leadSchema = `{"type":"record","name":"stg_ploomes_leads","namespace":"riacho.staging","fields":[
 {"name":"lead_id","type":["null","long"],"default":null},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"status_ptbr","type":["null","string"],"default":null}]}`

// seedSuite is the seed's e-mail test as a GE suite, with a set check.
const seedSuite = `{
  "expectation_suite_name": "leads_quality",
  "meta": {"riacho": {"model": "stg_ploomes_leads"}},
  "expectations": [
    {"expectation_type": "expect_column_values_to_match_regex",
     "kwargs": {"column": "email", "regex": "^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$"}},
    {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "lead_id"}}
  ]
}`

type receiver struct {
	mu     sync.Mutex
	bodies []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, string(b))
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...)
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

// TestServiceGatesLeadsAndAlertsTheStewards runs the service on the seed's
// e-mail suite: good leads reach curated, the bad one quarantine, the
// failed window is published and alerted to the stewards' webhook, and the
// Control verbs list the suite and its latest result.
func TestServiceGatesLeadsAndAlertsTheStewards(t *testing.T) {
	kc, registryURL := startBroker(t)
	srv := struct{ URL string }{registryURL}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	stewards := &receiver{}
	hook := httptest.NewServer(stewards)
	t.Cleanup(hook.Close)

	kc.CreateTopic(t, "staging.stg_ploomes_leads", 1)
	rc, err := avro.NewClient(avro.RegistryConfig{URL: srv.URL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	enc, err := avro.NewSerde(rc).Encoder(ctx, "staging.stg_ploomes_leads-value", leadSchema)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kafka.NewProducer(kc.Config(), kafka.ProducerOptions{Linger: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	var recs []*kgo.Record
	for i, email := range []string{"ana@exemplo.com.br", "bruno-at-exemplo", "carla@x.com"} {
		v, err := enc.Encode(map[string]any{"lead_id": map[string]any{"long": int64(i + 1)}, "email": map[string]any{"string": email}, "status_ptbr": nil})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "staging.stg_ploomes_leads", Key: []byte{byte('1' + i)}, Value: v})
	}
	if err := prod.ProduceAll(ctx, recs); err != nil {
		t.Fatal(err)
	}

	svc := startService(t, kc.Addrs()[0], srv.URL, "RIACHO_QUALITY_WINDOW=1s", "RIACHO_QUALITY_STEWARDS_URL="+hook.URL)
	conn, err := grpc.NewClient(svc.ControlAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctl := controlv1.NewControlClient(conn)
	cctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testToken)
	command := func(name string, args map[string]string) (*controlv1.CommandResponse, error) {
		return ctl.Command(cctx, &controlv1.CommandRequest{Name: name, Args: args})
	}

	waitFor(t, "the failed window's alert", func() bool { return len(stewards.got()) > 0 })
	var slack struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(stewards.got()[0]), &slack); err != nil || !strings.Contains(slack.Text, "leads_quality") {
		t.Errorf("stewards alert %s (%v)", stewards.got()[0], err)
	}
	suites, err := command(VerbSuites, nil)
	if err != nil {
		t.Fatal(err)
	}
	if suites.Result["leads_quality.model"] != "stg_ploomes_leads" || suites.Result["model.stg_ploomes_leads.curated"] != "2" ||
		suites.Result["model.stg_ploomes_leads.quarantined"] != "1" {
		t.Errorf("suites: %v", suites.Result)
	}
	results, err := command(VerbResults, map[string]string{"model": "stg_ploomes_leads"})
	if err != nil {
		t.Fatal(err)
	}
	if results.Result["leads_quality.success"] != "false" || results.Result["leads_quality.evaluated"] != "2" ||
		!strings.Contains(results.Output, `"unexpected_count":1`) {
		t.Errorf("results: %v\n%s", results.Result, results.Output)
	}
	if _, err := command(VerbResults, map[string]string{"model": "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("results of an unknown model: %v", err)
	}
	resp, err := http.Get("http://" + svc.OpsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`riacho_quality_records_quarantined_total{model="stg_ploomes_leads"} 1`, `riacho_quality_suite_success{model="stg_ploomes_leads",suite="leads_quality"} 0`,
		`riacho_quality_expectations_failed_total{column="email",expectation="expect_column_values_to_match_regex",model="stg_ploomes_leads",suite="leads_quality"} 1`,
		`riacho_quality_unexpected_percent{column="email",expectation="expect_column_values_to_match_regex",model="stg_ploomes_leads",suite="leads_quality"} 33.33`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestBrokenSuiteIsRefusedWithFileAndExpectation(t *testing.T) {
	dir := t.TempDir()
	bad := strings.Replace(seedSuite, "expect_column_values_to_be_unique", "expect_column_values_to_be_uniq", 1)
	if err := os.WriteFile(filepath.Join(dir, "leads.json"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(context.Background(), []string{"RIACHO_CONTROL_INSECURE=true", "RIACHO_QUALITY_SUITES=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), cfg, Deps{})
	if err == nil || !strings.Contains(err.Error(), "leads.json") || !strings.Contains(err.Error(), "expect_column_values_to_be_uniq") {
		t.Fatalf("error %v does not name the file and the expectation", err)
	}
}

// startService runs the service with the common test settings plus env,
// on the broker and registry given, and stops it when the test ends.
func startService(t *testing.T, brokers, registryURL string, env ...string) *Service {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "leads.json"), []byte(seedSuite), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(context.Background(), append([]string{
		"RIACHO_QUALITY_OPS_ADDR=127.0.0.1:0", "RIACHO_CONTROL_ADDR=127.0.0.1:0", "RIACHO_CONTROL_TOKENS=ops:" + testToken,
		"RIACHO_KAFKA_BROKERS=" + brokers, "RIACHO_SCHEMA_REGISTRY_URL=" + registryURL,
		"RIACHO_QUALITY_SUITES=" + dir, "RIACHO_QUALITY_INSTANCE_ID=svc-test",
		"RIACHO_QUALITY_SESSION_TIMEOUT=6s", "RIACHO_QUALITY_REBALANCE_TIMEOUT=10s",
	}, env...))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), cfg, Deps{Logger: testlog.New(t, slog.LevelWarn), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	t.Cleanup(func() {
		rcancel()
		if err := <-done; err != nil {
			t.Errorf("service stopped with %v", err)
		}
	})
	return svc
}

// startBroker starts a kfake cluster and the schema registry on it.
func startBroker(t *testing.T) (*kafkatest.Cluster, string) {
	t.Helper()
	kc := kafkatest.NewCluster(t)
	reg, err := registry.New(kc.Addrs(), registry.DefaultConfig(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(func() { srv.Close(); reg.Close() })
	return kc, srv.URL
}
