package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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

// eventSchema is an intake-like record with an event_time.
const eventSchema = `{"type":"record","name":"Lead","namespace":"riacho.raw.ploomes","fields":[
 {"name":"event_id","type":"string"},
 {"name":"event_time","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"n","type":"long"},
 {"name":"name","type":["null","string"],"default":null}]}`

type harness struct {
	t       *testing.T
	kc      *kafkatest.Cluster
	serde   *avro.Serde
	prod    *kafka.Producer
	lakeDir string
	svc     *Service
	cancel  context.CancelFunc
	done    chan error
	ctl     controlv1.ControlClient
}

func newHarness(t *testing.T, env ...string) *harness {
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
	rc, err := avro.NewClient(avro.RegistryConfig{URL: srv.URL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	h.serde = avro.NewSerde(rc)
	h.prod, err = kafka.NewProducer(h.kc.Config(), kafka.ProducerOptions{Linger: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	h.lakeDir = filepath.Join(t.TempDir(), "lake")
	cfg, err := LoadConfig(context.Background(), append([]string{
		"RIACHO_SINK_OPS_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_TOKENS=ops:" + testToken,
		"RIACHO_KAFKA_BROKERS=" + h.kc.Addrs()[0],
		"RIACHO_SCHEMA_REGISTRY_URL=" + srv.URL,
		"RIACHO_SINK_LAKE_URL=" + h.lakeDir,
		"RIACHO_SINK_ROTATE_INTERVAL=300ms",
		"RIACHO_SINK_TOPIC_REFRESH=300ms",
		"RIACHO_SINK_SHUTDOWN_TIMEOUT=10s",
	}, env...))
	if err != nil {
		t.Fatal(err)
	}
	h.svc, err = New(ctx, cfg, Deps{Logger: testlog.New(t, slog.LevelWarn), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	h.cancel = rcancel
	go func() { h.done <- h.svc.Run(rctx) }()
	t.Cleanup(h.stop)
	conn, err := grpc.NewClient(h.svc.ControlAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h.ctl = controlv1.NewControlClient(conn)
	return h
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

func (h *harness) command(name string, args map[string]string) *controlv1.CommandResponse {
	h.t.Helper()
	resp, err := h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: name, Args: args})
	if err != nil {
		h.t.Fatalf("%s %v: %v", name, args, err)
	}
	return resp
}

// produce writes n events of topic starting at number from, all on day.
func (h *harness) produce(topic string, from, n int, day time.Time) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	enc, err := h.serde.Encoder(ctx, topic+"-value", eventSchema)
	if err != nil {
		h.t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		v, err := enc.Encode(map[string]any{
			"event_id": fmt.Sprintf("ev-%d", i), "event_time": day.Add(time.Duration(i) * time.Minute),
			"n": int64(i), "name": map[string]any{"string": fmt.Sprintf("lead %d", i)},
		})
		if err != nil {
			h.t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Value: v})
	}
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

func (h *harness) details() map[string]string {
	st, err := h.ctl.Status(h.ctx(), &controlv1.StatusRequest{})
	if err != nil {
		h.t.Fatal(err)
	}
	return st.Details
}

// TestServiceWritesAndAnswersControl runs the service: records become files
// in the lake, Status and /metrics count them, and the table verbs list
// snapshots, describe, compact (keeping the old snapshot readable: time
// travel) and expire.
func TestServiceWritesAndAnswersControl(t *testing.T) {
	h := newHarness(t)
	const topic = "raw.ploomes.leads"
	h.kc.CreateTopic(t, topic, 1)
	day := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	h.produce(topic, 0, 30, day)
	waitFor(t, "the first commit", func() bool { return h.details()["records_written"] == "30" })
	h.produce(topic, 30, 30, day)
	waitFor(t, "the second commit", func() bool { return h.details()["records_written"] == "60" })

	for _, name := range []string{"leads_20240115_001.parquet", "leads_20240115_002.parquet"} {
		if _, err := os.Stat(filepath.Join(h.lakeDir, "raw", "ploomes", "year=2024", "month=01", "day=15", name)); err != nil {
			t.Errorf("lake file: %v", err)
		}
	}
	if d := h.details(); d["partition.raw.ploomes.leads.0.committed"] != "60" || d["partition.raw.ploomes.leads.0.table"] != "raw_ploomes.leads" {
		t.Errorf("status details %v", d)
	}

	if out := h.command(VerbTables, nil).Output; out != "raw_ploomes.leads" {
		t.Errorf("tables: %q", out)
	}
	snaps := h.command(VerbSnapshots, map[string]string{"table": "raw_ploomes.leads"})
	if snaps.Result["count"] != "2" || !strings.Contains(snaps.Output, "raw.ploomes.leads.0=60") {
		t.Errorf("snapshots: %v\n%s", snaps.Result, snaps.Output)
	}
	before := snaps.Result["current"]
	desc := h.command(VerbDescribe, map[string]string{"table": "raw_ploomes.leads"})
	if desc.Result["records"] != "60" || desc.Result["files"] != "2" || !strings.Contains(desc.Output, "event_time") {
		t.Errorf("describe: %v\n%s", desc.Result, desc.Output)
	}
	comp := h.command(VerbCompact, map[string]string{"table": "raw_ploomes.leads", "day": "2024-01-15"})
	if comp.Result["files"] != "1" {
		t.Errorf("compact: %v %s", comp.Result, comp.Output)
	}
	after := h.command(VerbDescribe, map[string]string{"table": "raw_ploomes.leads"})
	if after.Result["records"] != "60" || after.Result["files"] != "1" {
		t.Errorf("describe after compact: %v", after.Result)
	}
	// Time travel: the snapshot before the compaction still reads its rows.
	old := h.command(VerbRead, map[string]string{"table": "raw_ploomes.leads", "snapshot": before, "limit": "5"})
	if old.Result["rows"] != "60" || !strings.Contains(old.Output, `"event_id":"ev-`) || !strings.Contains(old.Output, "55 more rows") {
		t.Errorf("read snapshot %s: %v\n%s", before, old.Result, old.Output)
	}
	asOf := h.command(VerbRead, map[string]string{"table": "raw_ploomes.leads", "as_of": time.Now().UTC().Format(time.RFC3339Nano)})
	if asOf.Result["rows"] != "60" || asOf.Result["snapshot"] != comp.Result["snapshot"] {
		t.Errorf("read as of now: %v", asOf.Result)
	}
	exp := h.command(VerbExpire, map[string]string{"table": "raw_ploomes.leads", "older_than": "0s"})
	if n, _ := strconv.Atoi(exp.Result["removed"]); n < 2 {
		t.Errorf("expire: %v %s", exp.Result, exp.Output)
	}
	if _, err := h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: VerbDescribe, Args: map[string]string{"table": "raw_nope.nothing"}}); status.Code(err) != codes.NotFound {
		t.Errorf("describe of a missing table: %v", err)
	}
	if _, err := h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: VerbCompact, Args: map[string]string{"table": "raw_ploomes.leads", "day": "15/01/2024"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("compact with a bad day: %v", err)
	}

	// Pause stops reading; Resume goes on.
	if _, err := h.ctl.Pause(h.ctx(), &controlv1.PauseRequest{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	h.produce(topic, 60, 10, day)
	time.Sleep(time.Second)
	if got := h.details()["records_written"]; got != "60" {
		t.Errorf("paused sink wrote records: %s", got)
	}
	if _, err := h.ctl.Resume(h.ctx(), &controlv1.ResumeRequest{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "records after resume", func() bool { return h.details()["records_written"] == "70" })

	resp, err := http.Get("http://" + h.svc.OpsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `riacho_sink_records_total{topic="raw.ploomes.leads"} 70`) {
		t.Errorf("/metrics lacks the record count:\n%s", body)
	}
	for _, probe := range []string{"/readyz", "/healthz"} {
		resp, err = http.Get("http://" + h.svc.OpsAddr() + probe)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", probe, resp.Status)
		}
	}
}

// TestFlushCommitsOpenFilesNow: with rotation an hour away, the flush verb
// commits what is open at once; a flush of a table this sink does not write
// is NotFound.
func TestFlushCommitsOpenFilesNow(t *testing.T) {
	h := newHarness(t, "RIACHO_SINK_ROTATE_INTERVAL=1h")
	const topic = "raw.ploomes.leads"
	h.kc.CreateTopic(t, topic, 1)
	day := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	h.produce(topic, 0, 25, day)
	prefix := "partition.raw.ploomes.leads.0."
	waitFor(t, "25 records open", func() bool { return h.details()[prefix+"pending_records"] == "25" })
	if got := h.details()["records_written"]; got != "0" {
		t.Fatalf("records_written = %s before the flush, want 0", got)
	}
	res := h.command(VerbFlush, map[string]string{"table": "raw_ploomes.leads"})
	if res.Result["records"] != "25" || res.Result["partitions"] != "1" || !strings.Contains(res.Output, "committed") {
		t.Errorf("flush: %v\n%s", res.Result, res.Output)
	}
	if d := h.details(); d["records_written"] != "25" || d[prefix+"committed"] != "25" || d[prefix+"pending_records"] != "0" {
		t.Errorf("after flush: written %s committed %s pending %s", d["records_written"], d[prefix+"committed"], d[prefix+"pending_records"])
	}
	if again := h.command(VerbFlush, nil); again.Result["records"] != "0" || !strings.Contains(again.Output, "nothing open") {
		t.Errorf("second flush: %v\n%s", again.Result, again.Output)
	}
	if _, err := h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: VerbFlush, Args: map[string]string{"table": "raw_nope.nothing"}}); status.Code(err) != codes.NotFound {
		t.Errorf("flush of a table not written here: %v", err)
	}
}
