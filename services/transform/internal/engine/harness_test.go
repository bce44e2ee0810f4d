package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/transform/internal/project"
)

// leadSchema is the writer schema of the Ploomes leads topic in the tests.
const leadSchema = `{"type":"record","name":"Lead","namespace":"riacho.raw.ploomes","fields":[
 {"name":"lead_id","type":"long"},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"phone","type":["null","string"],"default":null},
 {"name":"created_at","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"status","type":"string"}]}`

// seedModel is the seed's models/staging/stg_ploomes_leads.sql, byte for byte.
const seedModel = `-- models/staging/stg_ploomes_leads.sql
WITH source AS (
    SELECT * FROM {{ ref('raw_ploomes_leads') }}
),

cleaned AS (
    SELECT
        lead_id,
        TRIM(LOWER(email)) AS email,
        COALESCE(phone, '') AS phone,
        DATE(created_at) AS created_date,
        CASE 
            WHEN status = 'Won' THEN 'Convertido'
            WHEN status = 'Lost' THEN 'Perdido'
            ELSE 'Em Andamento'
        END AS status_ptbr
    FROM source
    WHERE email IS NOT NULL
)

SELECT * FROM cleaned
`

// seedSources declares the Ploomes leads topic and the alias the seed's
// model refs it by.
const seedSources = `version: 2
sources:
  - name: ploomes
    tables:
      - name: leads
        meta:
          riacho:
            topic: raw.ploomes.leads
            alias: raw_ploomes_leads
`

// seedConfig gives the seed's model its unique key.
const seedConfig = `version: 2
models:
  - name: stg_ploomes_leads
    config:
      unique_key: lead_id
`

const leadsTopic = "raw.ploomes.leads"

// harness is a broker, a registry and a producer for one test.
type harness struct {
	t      testing.TB
	kc     *kafkatest.Cluster
	regURL string
	rc     *avro.Client
	serde  *avro.Serde
	prod   *kafka.Producer
	log    *slog.Logger
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, log: testlog.New(t, slog.LevelWarn)}
	h.kc = kafkatest.NewCluster(t, kfake.BrokerConfigs(map[string]string{"group.min.session.timeout.ms": "1000"}))
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
	if h.rc, err = avro.NewClient(avro.RegistryConfig{URL: srv.URL, Timeout: 5 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.rc.Close)
	h.serde = avro.NewSerde(h.rc)
	h.prod, err = kafka.NewProducer(h.kc.Config(), kafka.ProducerOptions{Linger: 2 * time.Millisecond, MaxBufferedRecords: 500_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	return h
}

// writeProject writes files (path relative to the project root) into a
// temporary directory and returns it.
func writeProject(t testing.TB, files map[string]string) string {
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

// loadProject writes and loads a project.
func loadProject(t testing.TB, files map[string]string) *project.Project {
	t.Helper()
	p, err := project.Load(writeProject(t, files), project.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedProject is the seed's model with its sources, plus extra files.
func seedProject(t testing.TB, extra map[string]string) *project.Project {
	files := map[string]string{
		"dbt_project.yml":                      "name: riacho_test\nversion: '1.0'\nconfig-version: 2\n",
		"models/sources.yml":                   seedSources,
		"models/staging/stg_ploomes_leads.sql": seedModel,
		"models/staging/schema.yml":            seedConfig,
	}
	for k, v := range extra {
		files[k] = v
	}
	return loadProject(t, files)
}

// testConfig is the engine configuration of the tests.
func testConfig() Config {
	c := DefaultConfig()
	c.InstanceID = "test"
	c.SessionTimeout, c.RebalanceTimeout = 2*time.Second, 5*time.Second
	c.RetryBackoff = 200 * time.Millisecond
	c.DuckDBThreads = 1
	c.TransactionTimeout = 10 * time.Second
	return c
}

// running is an engine running in the background.
type running struct {
	e    *Engine
	stop context.CancelFunc
	done chan struct{}
}

func (h *harness) start(cfg Config, p *project.Project) *running {
	h.t.Helper()
	e, err := New(cfg, Deps{Kafka: h.kc.Config(), Registry: h.rc, Logger: h.log, Registerer: prometheus.NewRegistry()}, p)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{e: e, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := e.Run(ctx); err != nil {
			h.t.Errorf("engine: %v", err)
		}
	}()
	h.t.Cleanup(r.close)
	return r
}

func (r *running) close() {
	r.stop()
	<-r.done
}

// encoder registers schema for topic's values.
func (h *harness) encoder(topic, schema string) *avro.Encoder {
	h.t.Helper()
	enc, err := h.serde.Encoder(context.Background(), topic+"-value", schema)
	if err != nil {
		h.t.Fatal(err)
	}
	return enc
}

// produce writes native values to topic with the given keys.
func (h *harness) produce(topic string, enc *avro.Encoder, keys []string, values []map[string]any) {
	h.t.Helper()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		b, err := enc.Encode(v)
		if err != nil {
			h.t.Fatalf("encode %v: %v", v, err)
		}
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(keys[i]), Value: b}
	}
	h.produceRaw(recs...)
}

func (h *harness) produceRaw(recs ...*kgo.Record) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.prod.ProduceAll(ctx, recs); err != nil {
		h.t.Fatal(err)
	}
}

// lead is a native value of leadSchema.
func lead(id int64, email, phone any, created time.Time, status string) map[string]any {
	v := map[string]any{"lead_id": id, "created_at": created, "status": status, "email": nil, "phone": nil}
	if email != nil {
		v["email"] = map[string]any{"string": email}
	}
	if phone != nil {
		v["phone"] = map[string]any{"string": phone}
	}
	return v
}

// readCommitted reads topic from the start with isolation read_committed
// until it has at least n records, failing after timeout.
func (h *harness) readCommitted(topic string, n int, timeout time.Duration) []*kgo.Record {
	h.t.Helper()
	cl, err := kafka.NewClient(h.kc.Config(), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n && ctx.Err() == nil {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	if len(out) < n {
		h.t.Fatalf("read %d of %d committed records from %s within %s", len(out), n, topic, timeout)
	}
	return out
}

// decode decodes an output record's value into its native map.
func (h *harness) decode(rec *kgo.Record) map[string]any {
	h.t.Helper()
	v, _, err := h.serde.Decode(context.Background(), rec.Value)
	if err != nil {
		h.t.Fatalf("decode %s/%d@%d: %v", rec.Topic, rec.Partition, rec.Offset, err)
	}
	return v.(map[string]any)
}

// header returns the value of a record header.
func header(rec *kgo.Record, key string) string {
	for _, h := range rec.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// waitFor polls cond until it holds, failing after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unwrap returns the value inside a goavro union map.
func unwrap(v any) any {
	if m, ok := v.(map[string]any); ok {
		for _, x := range m {
			return x
		}
	}
	return v
}

// sortedKeys returns the record keys, sorted.
func sortedKeys(recs []*kgo.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Key)
	}
	sort.Strings(out)
	return out
}

// formatAny prints a decoded value for comparisons.
func formatAny(v any) string {
	if v == nil {
		return "<nil>"
	}
	return strings.TrimSpace(fmt.Sprint(v))
}
