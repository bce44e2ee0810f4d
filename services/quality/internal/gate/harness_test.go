package gate

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

// leadSchema is the transform's output schema of the seed's model.
const leadSchema = `{"type":"record","name":"stg_ploomes_leads","namespace":"riacho.staging","fields":[
 {"name":"lead_id","type":["null","long"],"default":null},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"phone","type":["null","string"],"default":null},
 {"name":"created_date","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"status_ptbr","type":["null","string"],"default":null}]}`

const model = "stg_ploomes_leads"

// seedEmail is the seed's Great Expectations example.
var seedEmail = expect.Config{Type: "expect_column_values_to_match_regex", Kwargs: map[string]any{
	"column": "email", "regex": `^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`}}

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
	if h.prod, err = kafka.NewProducer(h.kc.Config(), kafka.ProducerOptions{Linger: 2 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	return h
}

// compile builds a suite for model from configs.
func compile(t testing.TB, name string, cfgs ...expect.Config) *suite.Suite {
	t.Helper()
	s := &suite.Suite{Name: name, Model: model, File: "test"}
	for _, c := range cfgs {
		e, err := expect.Compile(c)
		if err != nil {
			t.Fatal(err)
		}
		s.Expectations = append(s.Expectations, e)
	}
	return s
}

func testConfig() Config {
	c := DefaultConfig()
	c.InstanceID = "test"
	c.SessionTimeout, c.RebalanceTimeout = 2*time.Second, 5*time.Second
	c.TransactionTimeout = 10 * time.Second
	c.RetryBackoff = 200 * time.Millisecond
	c.Linger = 50 * time.Millisecond
	return c
}

type running struct {
	g    *Gate
	stop context.CancelFunc
	done chan struct{}
}

func (h *harness) start(cfg Config, suites ...*suite.Suite) *running {
	return h.startAt(nil, cfg, suites...)
}

// startAt starts a gate whose clock is now (nil: the real one).
func (h *harness) startAt(now func() time.Time, cfg Config, suites ...*suite.Suite) *running {
	h.t.Helper()
	g, err := New(cfg, Deps{Kafka: h.kc.Config(), Registry: h.rc, Logger: h.log, Registerer: prometheus.NewRegistry(), Now: now}, suites)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{g: g, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := g.Run(ctx); err != nil {
			h.t.Errorf("gate: %v", err)
		}
	}()
	h.t.Cleanup(func() { r.stop(); <-r.done })
	return r
}

// lead is a native value of leadSchema.
func lead(id int64, email string, status string) map[string]any {
	v := map[string]any{"lead_id": map[string]any{"long": id}, "phone": nil,
		"created_date": map[string]any{"int.date": time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}, "status_ptbr": nil, "email": nil}
	if email != "" {
		v["email"] = map[string]any{"string": email}
	}
	if status != "" {
		v["status_ptbr"] = map[string]any{"string": status}
	}
	return v
}

// produce writes leads to the staging topic with timestamp ts.
func (h *harness) produce(ts time.Time, leads ...map[string]any) {
	h.t.Helper()
	enc, err := h.serde.Encoder(context.Background(), stagingTopic(model)+"-value", leadSchema)
	if err != nil {
		h.t.Fatal(err)
	}
	var recs []*kgo.Record
	for _, l := range leads {
		b, err := enc.Encode(l)
		if err != nil {
			h.t.Fatal(err)
		}
		id := l["lead_id"].(map[string]any)["long"].(int64)
		recs = append(recs, &kgo.Record{Topic: stagingTopic(model), Key: []byte(itoa(id)), Value: b, Timestamp: ts})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.prod.ProduceAll(ctx, recs); err != nil {
		h.t.Fatal(err)
	}
}

// readCommitted reads topic from the start (read_committed) until it has n
// records.
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

func header(rec *kgo.Record, key string) []string {
	var out []string
	for _, h := range rec.Headers {
		if h.Key == key {
			out = append(out, string(h.Value))
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// readAllCommitted reads every committed record of topic, up to its last
// stable offsets.
func (h *harness) readAllCommitted(topic string) []*kgo.Record {
	h.t.Helper()
	cl, err := kafka.NewClient(h.kc.Config())
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		h.t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	rd, err := kafka.NewClient(h.kc.Config(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		h.t.Fatal(err)
	}
	defer rd.Close()
	var out []*kgo.Record
	for len(want) > 0 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			h.t.Fatalf("reading %s: %v (still waiting for %v)", topic, ctx.Err(), want)
		}
		for _, r := range fs.Records() {
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		}
	}
	return out
}

// groupLag is a group's total lag (-1 when it cannot be described).
func (h *harness) groupLag(group string) int64 {
	cl, err := kafka.NewClient(h.kc.Config())
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lags, err := kafka.GroupLag(ctx, kadm.NewClient(cl), group)
	if err != nil || len(lags) == 0 {
		return -1
	}
	var total int64
	for _, l := range lags {
		if l.Committed < 0 {
			return -1
		}
		total += l.Lag
	}
	return total
}

// produceRaw writes records as they are.
func (h *harness) produceRaw(recs ...*kgo.Record) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.prod.ProduceAll(ctx, recs); err != nil {
		h.t.Fatal(err)
	}
}
