package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
)

const (
	ctlToken       = "ctl-token"
	financeToken   = "finance-token-0123"
	marketingToken = "marketing-token-4567"
)

// subscriptionSchema is curated.fct_subscriptions as the transform and the gate publish it.
const subscriptionSchema = `{"type":"record","name":"fct_subscriptions","namespace":"riacho.curated","fields":[
 {"name":"subscription_id","type":["null","string"],"default":null},
 {"name":"customer_id","type":["null","string"],"default":null},
 {"name":"monthly_value","type":["null",{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}],"default":null},
 {"name":"date_month","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"customer_segment","type":["null","string"],"default":null},
 {"name":"product_category","type":["null","string"],"default":null},
 {"name":"is_active","type":["null","boolean"],"default":null},
 {"name":"updated_at","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null}]}`

const warehouseYAML = `version: 1
tables:
  - name: fct_subscriptions
    kind: fact
    topic: curated.fct_subscriptions
    key: [subscription_id]
    event_time: updated_at
    columns:
      - {name: subscription_id, type: text}
      - {name: customer_id, type: text}
      - {name: monthly_value, type: "numeric(18,2)"}
      - {name: date_month, type: date}
      - {name: customer_segment, type: text}
      - {name: product_category, type: text}
      - {name: is_active, type: boolean}
      - {name: updated_at, type: timestamp}
rollups:
  - {name: rollup_mrr_month_segment, metric: mrr, grain: month, dimensions: [customer_segment]}
`

const policyYAML = `version: 1
clients:
  - name: finance-bi
    token_env: TEST_FINANCE_TOKEN
    roles: [finance]
  - name: marketing-app
    token_env: TEST_MARKETING_TOKEN
    roles: [marketing]
  - name: marketing-job
    cert_subject: "CN=marketing-job"
    roles: [marketing]
roles:
  - name: finance
    metrics: ["*"]
  - name: marketing
    metrics: ["mrr", "active_subscriptions"]
    deny_dimensions: ["customer_id"]
`

// extraMetrics are metrics beside the seed's mrr.yml (a derived one among them).
const extraMetrics = `version: 2
metrics:
  - name: active_subscriptions
    label: Active subscriptions
    model: ref('fct_subscriptions')
    calculation_method: count_distinct
    expression: subscription_id
    timestamp: date_month
    time_grains: [month, quarter, year]
    dimensions: [customer_segment, product_category, customer_id]
    filters:
      - {field: is_active, operator: '=', value: true}
  - name: revenue_by_customer
    label: MRR by customer
    model: ref('fct_subscriptions')
    calculation_method: sum
    expression: monthly_value
    timestamp: date_month
    time_grains: [month]
    dimensions: [customer_id, customer_segment]
  - name: arpa
    label: Average revenue per account
    calculation_method: derived
    expression: "mrr / nullif(active_subscriptions, 0)"
    timestamp: date_month
    time_grains: [month, quarter, year]
    dimensions: [customer_segment, product_category]
`

// sub is one subscription record as produced.
type sub struct {
	ID, Customer, Segment, Category string
	Cents                           int64
	Month                           time.Time
	Active                          bool
	Updated                         time.Time
}

func (s sub) native() map[string]any {
	return map[string]any{
		"subscription_id":  avro.Nullable("string", s.ID),
		"customer_id":      avro.Nullable("string", s.Customer),
		"monthly_value":    avro.Nullable("bytes.decimal", big.NewRat(s.Cents, 100)),
		"date_month":       avro.Nullable("int.date", s.Month),
		"customer_segment": avro.Nullable("string", s.Segment),
		"product_category": avro.Nullable("string", s.Category),
		"is_active":        avro.Nullable("boolean", s.Active),
		"updated_at":       avro.Nullable("long.timestamp-micros", s.Updated),
	}
}

// genSubs makes n subscriptions over 2025 (seeded), some ids updated twice.
func genSubs(seed uint64, n int) []sub {
	r := rand.New(rand.NewPCG(seed, 99)) //nolint:gosec // test data
	segs := []string{"SMB", "Mid-Market", "Enterprise"}
	cats := []string{"CRM", "ERP", "BI"}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []sub
	for i := range n {
		id := fmt.Sprintf("S%05d", i)
		if i > 10 && r.IntN(5) == 0 {
			id = out[r.IntN(len(out))].ID // an update of an earlier subscription
		}
		m := base.AddDate(0, r.IntN(12), 0)
		out = append(out, sub{ID: id, Customer: fmt.Sprintf("C%03d", r.IntN(80)), Segment: segs[r.IntN(3)], Category: cats[r.IntN(3)],
			Cents: int64(r.IntN(900000)), Month: m, Active: r.IntN(4) != 0,
			Updated: m.Add(time.Duration(r.IntN(20*24)) * time.Hour).Add(time.Duration(i) * time.Second)})
	}
	return out
}

// latest keeps the last record of each id (the loader upserts by key).
func latest(subs []sub) map[string]sub {
	m := map[string]sub{}
	for _, s := range subs {
		m[s.ID] = s
	}
	return m
}

// expectedMRR is the seed's mrr by month and customer_segment, computed in Go:
// sum of monthly_value where is_active, as "YYYY-MM|segment" → decimal text.
func expectedMRR(subs []sub) map[string]string {
	sums := map[string]int64{}
	for _, s := range latest(subs) {
		if s.Active {
			sums[s.Month.Format("2006-01")+"|"+s.Segment] += s.Cents
		}
	}
	out := map[string]string{}
	for k, c := range sums {
		out[k] = big.NewRat(c, 100).FloatString(2)
	}
	return out
}

type broker struct {
	kc     *kafkatest.Cluster
	regURL string
	enc    *avro.Encoder
	prod   *kafka.Producer
}

func startBroker(t *testing.T) *broker {
	t.Helper()
	b := &broker{kc: kafkatest.NewCluster(t, kfake.BrokerConfigs(map[string]string{"group.min.session.timeout.ms": "1000"}))}
	reg, err := registry.New(b.kc.Addrs(), registry.DefaultConfig(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
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
	b.regURL = srv.URL
	rc, err := avro.NewClient(avro.RegistryConfig{URL: srv.URL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	b.kc.CreateTopic(t, "curated.fct_subscriptions", 2)
	if b.enc, err = avro.NewSerde(rc).Encoder(ctx, "curated.fct_subscriptions-value", subscriptionSchema); err != nil {
		t.Fatal(err)
	}
	if b.prod, err = kafka.NewProducer(b.kc.Config(), kafka.ProducerOptions{Linger: -1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.prod.Close)
	return b
}

func (b *broker) produce(t *testing.T, subs []sub) {
	t.Helper()
	recs := make([]*kgo.Record, 0, len(subs))
	for _, s := range subs {
		v, err := b.enc.Encode(s.native())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "curated.fct_subscriptions", Key: []byte(s.ID), Value: v})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.prod.ProduceAll(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer collects audit lines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// contentDir writes the warehouse schema, the seed's mrr.yml, the extra metrics and the policy.
func contentDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	seed, err := os.ReadFile("../internal/metricdef/testdata/mrr.yml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"warehouse.yml": warehouseYAML, "access.yml": policyYAML,
		"models/metrics/mrr.yml": string(seed), "models/metrics/extra.yml": extraMetrics,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// running is a started service with its audit log.
type running struct {
	svc   *Service
	audit *syncBuffer
	conn  *grpc.ClientConn
	cli   metricsv1.MetricsServiceClient
}

// startService runs the service on warehouse (a DSN) with the test content.
func startService(t *testing.T, b *broker, warehouse string, env ...string) *running {
	t.Helper()
	dir := contentDir(t)
	base := []string{
		"RIACHO_CONTROL_ADDR=127.0.0.1:0", "RIACHO_CONTROL_TOKENS=ops:" + ctlToken,
		"RIACHO_METRICS_HTTP_ADDR=127.0.0.1:0", "RIACHO_METRICS_OPS_ADDR=127.0.0.1:0",
		"RIACHO_METRICS_WAREHOUSE=" + warehouse,
		"RIACHO_METRICS_SCHEMA=" + filepath.Join(dir, "warehouse.yml"),
		"RIACHO_METRICS_DEFINITIONS=" + filepath.Join(dir, "models", "metrics"),
		"RIACHO_METRICS_POLICY=" + filepath.Join(dir, "access.yml"),
		"RIACHO_METRICS_LOADER_LINGER=20ms", "RIACHO_METRICS_FRESHNESS_POLL=200ms",
	}
	if b != nil {
		base = append(base, "RIACHO_KAFKA_BROKERS="+b.kc.Addrs()[0], "RIACHO_SCHEMA_REGISTRY_URL="+b.regURL)
	} else {
		base = append(base, "RIACHO_METRICS_LOADER=false")
	}
	cfg, err := LoadConfig(context.Background(), append(base, env...))
	if err != nil {
		t.Fatal(err)
	}
	audit := &syncBuffer{}
	getenv := func(k string) string {
		return map[string]string{"TEST_FINANCE_TOKEN": financeToken, "TEST_MARKETING_TOKEN": marketingToken}[k]
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := New(ctx, cfg, Deps{Logger: testlog.New(t, slog.LevelWarn), Audit: audit, Getenv: getenv})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &running{svc: svc, audit: audit, conn: conn, cli: metricsv1.NewMetricsServiceClient(conn)}
}

func as(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// answer is a whole Query answer.
type answer struct {
	columns   []*metricsv1.Column
	rows      [][]*metricsv1.Value
	freshness []*metricsv1.Freshness
	cached    bool
	rollup    string
	messages  int
}

func runQuery(ctx context.Context, cli metricsv1.MetricsServiceClient, req *metricsv1.QueryRequest) (*answer, error) {
	stream, err := cli.Query(ctx, req)
	if err != nil {
		return nil, err
	}
	a := &answer{}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		if err != nil {
			return nil, err
		}
		if a.messages == 0 {
			a.columns, a.freshness, a.cached, a.rollup = m.GetColumns(), m.GetFreshness(), m.GetCached(), m.GetRollup()
		}
		a.messages++
		for _, r := range m.GetRows() {
			a.rows = append(a.rows, r.GetValues())
		}
	}
}

// col is the index of the named column.
func (a *answer) col(t *testing.T, name string) int {
	t.Helper()
	for i, c := range a.columns {
		if c.GetName() == name {
			return i
		}
	}
	names := make([]string, len(a.columns))
	for i, c := range a.columns {
		names[i] = c.GetName()
	}
	t.Fatalf("no column %q in %v", name, names)
	return -1
}

// byMonthSegment reads an answer with a period, customer_segment and metric column.
func (a *answer) byMonthSegment(t *testing.T, metric string) map[string]string {
	t.Helper()
	pc, sc, mc := a.periodCol(t), a.col(t, "customer_segment"), a.col(t, metric)
	out := map[string]string{}
	for _, r := range a.rows {
		v := r[mc]
		if v.GetNull() {
			continue
		}
		out[r[pc].GetTime().AsTime().UTC().Format("2006-01")+"|"+r[sc].GetText()] = v.GetDecimal()
	}
	return out
}

func (a *answer) periodCol(t *testing.T) int {
	t.Helper()
	for i, c := range a.columns {
		if c.GetRole() == "period" {
			return i
		}
	}
	t.Fatal("no period column")
	return -1
}

func diffMaps(want, got map[string]string) string {
	var out []string
	for k, w := range want {
		if got[k] != w {
			out = append(out, fmt.Sprintf("%s: want %s got %q", k, w, got[k]))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%s: unexpected %s", k, g))
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("… %d more", len(out)-10))
	}
	return strings.Join(out, "\n")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
