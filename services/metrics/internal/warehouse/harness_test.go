package warehouse

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

// testSchemaYAML is the star schema the loader tests use.
const testSchemaYAML = `version: 1
tables:
  - name: fct_orders
    kind: fact
    key: [order_id]
    event_time: updated_at
    columns:
      - {name: order_id, type: text}
      - {name: amount, type: "numeric(18,2)"}
      - {name: qty, type: integer}
      - {name: big, type: bigint}
      - {name: ratio, type: double}
      - {name: paid, type: boolean}
      - {name: order_date, type: date, field: orderDate}
      - {name: updated_at, type: timestamp}
      - {name: customer_id, type: text}
    joins:
      - {dimension: dim_customers, column: customer_id}
  - name: fct_events
    kind: fact
    columns:
      - {name: event_id, type: bigint}
      - {name: amount, type: "numeric(12,2)"}
  - name: dim_customers
    kind: dimension
    key: [customer_id]
    columns:
      - {name: customer_id, type: text}
      - {name: segment, type: text}
  - name: dim_plans
    kind: dimension
    scd: 2
    key: [plan_id]
    columns:
      - {name: plan_id, type: text}
      - {name: price, type: "numeric(10,2)"}
      - {name: tier, type: text}
`

const orderSchema = `{"type":"record","name":"fct_orders","namespace":"riacho.curated","fields":[
 {"name":"order_id","type":"string"},
 {"name":"amount","type":["null",{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}],"default":null},
 {"name":"qty","type":["null","int"],"default":null},
 {"name":"big","type":"long"},
 {"name":"ratio","type":["null","double"],"default":null},
 {"name":"paid","type":["null","boolean"],"default":null},
 {"name":"orderDate","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"updated_at","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
 {"name":"customer_id","type":["null","string"],"default":null}]}`

// orderSchemaWide has a wider qty and a finer amount: values that do not
// fit fct_orders' columns.
const orderSchemaWide = `{"type":"record","name":"fct_orders","namespace":"riacho.curated","fields":[
 {"name":"order_id","type":["null","string"],"default":null},
 {"name":"amount","type":["null",{"type":"bytes","logicalType":"decimal","precision":30,"scale":3}],"default":null},
 {"name":"qty","type":["null","long"],"default":null},
 {"name":"big","type":"long"},
 {"name":"ratio","type":["null","double"],"default":null},
 {"name":"paid","type":["null","boolean"],"default":null},
 {"name":"orderDate","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"updated_at","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
 {"name":"customer_id","type":["null","string"],"default":null}]}`

const eventSchema = `{"type":"record","name":"fct_events","namespace":"riacho.curated","fields":[
 {"name":"event_id","type":"long"},
 {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}}]}`

const customerSchema = `{"type":"record","name":"dim_customers","namespace":"riacho.curated","fields":[
 {"name":"customer_id","type":"string"},
 {"name":"segment","type":["null","string"],"default":null}]}`

const planSchema = `{"type":"record","name":"dim_plans","namespace":"riacho.curated","fields":[
 {"name":"plan_id","type":"string"},
 {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"tier","type":["null","string"],"default":null}]}`

var testTopics = []string{"curated.fct_orders", "curated.fct_events", "curated.dim_customers", "curated.dim_plans"}

type harness struct {
	t      testing.TB
	kc     *kafkatest.Cluster
	regURL string
	rc     *avro.Client
	serde  *avro.Serde
	prod   *kafka.Producer
	schema *Schema
	encs   map[string]*avro.Encoder
}

func newHarness(t testing.TB, partitions int32) *harness {
	t.Helper()
	h := &harness{t: t, encs: map[string]*avro.Encoder{}}
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
	if h.prod, err = kafka.NewProducer(h.kc.Config(), kafka.ProducerOptions{Linger: -1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	for _, topic := range testTopics {
		h.kc.CreateTopic(t, topic, partitions)
	}
	if h.schema, err = ParseSchema("test.yml", []byte(testSchemaYAML)); err != nil {
		t.Fatal(err)
	}
	for subject, text := range map[string]string{
		"curated.fct_orders-value": orderSchema, "wide-value": orderSchemaWide, "curated.fct_events-value": eventSchema,
		"curated.dim_customers-value": customerSchema, "curated.dim_plans-value": planSchema,
	} {
		if h.encs[subject], err = h.serde.Encoder(ctx, subject, text); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// rec builds a record of topic encoded with subject's schema (nil native: a tombstone).
func (h *harness) rec(subject, topic, key string, native map[string]any, ts time.Time) *kgo.Record {
	h.t.Helper()
	r := &kgo.Record{Topic: topic, Key: []byte(key), Timestamp: ts}
	if native != nil {
		b, err := h.encs[subject].Encode(native)
		if err != nil {
			h.t.Fatal(err)
		}
		r.Value = b
	}
	return r
}

func (h *harness) produce(recs ...*kgo.Record) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.prod.ProduceAll(ctx, recs); err != nil {
		h.t.Fatal(err)
	}
}

// dialects runs fn on a fresh PostgreSQL database and a fresh DuckDB file.
func dialects(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Run("postgres", func(t *testing.T) { fn(t, openPG(t)) })
	t.Run("duckdb", func(t *testing.T) { fn(t, openDuck(t)) })
}

func openPG(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func openDuck(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "duckdb://"+filepath.Join(t.TempDir(), "warehouse.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func testLoaderConfig() LoaderConfig {
	return LoaderConfig{Linger: 20 * time.Millisecond, RetryBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		SessionTimeout: 3 * time.Second, RebalanceTimeout: 5 * time.Second}
}

type runningLoader struct {
	l    *Loader
	stop context.CancelFunc
	done chan struct{}
}

// startLoader migrates st and runs a loader on it until the test ends (or stop).
func (h *harness) startLoader(st *store.Store, cfg LoaderConfig) *runningLoader {
	h.t.Helper()
	if err := Migrate(context.Background(), st, h.schema); err != nil {
		h.t.Fatal(err)
	}
	l, err := NewLoader(cfg, st, h.schema, h.kc.Config(), h.serde, testlog.New(h.t, slog.LevelWarn), prometheus.NewRegistry())
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningLoader{l: l, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := l.Run(ctx); err != nil {
			h.t.Errorf("loader: %v", err)
		}
	}()
	h.t.Cleanup(r.halt)
	return r
}

func (r *runningLoader) halt() { r.stop(); <-r.done }

// waitApplied waits until the loader has applied or rejected n records in total.
func waitApplied(t testing.TB, l *Loader, n int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := l.Status()
		var got int64
		for _, v := range s.Rows {
			got += v
		}
		for _, v := range s.Rejects {
			got += v
		}
		if got >= n {
			if got > n {
				t.Fatalf("loader applied %d records, want %d", got, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("loader applied %d of %d records within 60s (last error %q)", got, n, s.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dump renders a table's rows, ordered by every column, one line each.
func dump(t testing.TB, st *store.Store, table string, types []Type, cols ...string) []string {
	t.Helper()
	ctx := context.Background()
	tx, err := begin(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.rollback()
	rows, err := tx.query(ctx, "SELECT "+quoteAll(cols)+" FROM "+q(table)+" ORDER BY "+quoteAll(cols), types)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = show(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case decimal:
		return x.String()
	case time.Time:
		if x.Equal(x.Truncate(24*time.Hour)) && x.Hour() == 0 {
			return x.UTC().Format(time.RFC3339)
		}
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// tableDump dumps every physical column of a schema table.
func tableDump(t testing.TB, st *store.Store, tab *Table) []string {
	cols := physicalColumns(tab)
	types := make([]Type, len(cols))
	for i, c := range cols {
		types[i] = c.Type
	}
	return dump(t, st, tab.Name, types, columnNames(cols)...)
}

func equalLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}
