package engine

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the independent Parquet reader of the tests
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// harness is a broker, a registry, a producer and a lake with its catalog
// for one test.
type harness struct {
	t          testing.TB
	kc         *kafkatest.Cluster
	regURL     string
	rc         *avro.Client
	serde      *avro.Serde
	prod       *kafka.Producer
	lakeURL    string
	lakeDir    string // "" for a lake that is not a local directory
	catalogURI string
	store      *lake.Store
	cat        *table.Catalog
	log        *slog.Logger
}

// newHarness starts the parts; lakeURL "" means a file:// lake in a temp dir.
func newHarness(t testing.TB, lakeURL string) *harness {
	t.Helper()
	h := &harness{t: t, log: testlog.New(t, slog.LevelWarn)}
	// Short sessions let the crash test's group notice a killed member quickly.
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
	h.rc, err = avro.NewClient(avro.RegistryConfig{URL: srv.URL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.rc.Close)
	h.serde = avro.NewSerde(h.rc)
	h.prod, err = kafka.NewProducer(h.kc.Config(), kafka.ProducerOptions{Linger: 2 * time.Millisecond, MaxBufferedRecords: 200_000},
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.prod.Close)
	dir := t.TempDir()
	if lakeURL == "" {
		h.lakeDir = filepath.Join(dir, "lake")
		lakeURL = "file://" + h.lakeDir
	}
	h.lakeURL = lakeURL
	h.catalogURI = "sqlite://" + filepath.Join(dir, "catalog.db")
	h.store, err = lake.Open(ctx, lakeURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.store.Close() })
	h.cat, err = table.OpenCatalog(ctx, h.catalogURI, h.store.URL(), h.store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.cat.Close() })
	return h
}

// engine builds an engine on the harness with cfg (tests' small defaults
// for what cfg leaves zero).
func (h *harness) engine(cfg Config) *Engine {
	h.t.Helper()
	if cfg.RotateInterval == 0 {
		cfg.RotateInterval = 500 * time.Millisecond
	}
	if cfg.TopicRefresh == 0 {
		cfg.TopicRefresh = 500 * time.Millisecond
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 6 * time.Second
	}
	if cfg.RebalanceTimeout == 0 {
		cfg.RebalanceTimeout = 10 * time.Second
	}
	e, err := New(cfg, Deps{
		Kafka: h.kc.Config(), Registry: h.rc, Store: h.store, Catalog: h.cat,
		Layout: lake.Layout{}, Logger: h.log, Registerer: prometheus.NewRegistry(),
		ShutdownTimeout: 20 * time.Second,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

// running is an engine started by start.
type running struct {
	e      *Engine
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs e until stop (or the test's end).
func (h *harness) start(e *Engine) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{e: e, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- e.Run(ctx) }()
	h.t.Cleanup(func() { r.stop(h.t) })
	return r
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			r.err = fmt.Errorf("engine did not stop within 60s")
		}
	})
	if r.err != nil {
		t.Errorf("engine: %v", r.err)
	}
}

// createTopic creates topic with n partitions.
func (h *harness) createTopic(topic string, n int32) { h.kc.CreateTopic(h.t, topic, n) }

// encoder registers schema under <topic>-value.
func (h *harness) encoder(topic, schema string) *avro.Encoder {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	enc, err := h.serde.Encoder(ctx, topic+"-value", schema)
	if err != nil {
		h.t.Fatal(err)
	}
	return enc
}

// produce writes records and waits for their acknowledgement.
func (h *harness) produce(recs ...*kgo.Record) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.prod.ProduceAll(ctx, recs); err != nil {
		h.t.Fatal(err)
	}
}

// endOffsets returns the end offset of each partition of topic.
func (h *harness) endOffsets(topic string) map[int32]int64 {
	h.t.Helper()
	cl, err := kafka.NewClient(h.kc.Config())
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Partition] = o.Offset
		}
	})
	return out
}

// tableOffsets reads the offsets the table of topic records (fresh from the catalog).
func (h *harness) tableOffsets(topic string) map[int32]int64 {
	h.t.Helper()
	target, err := ParseTopic(topic)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t, err := h.cat.Table(ctx, target.Namespace(), target.Entity, nil)
	if err != nil {
		return nil
	}
	offs, err := t.Offsets(ctx, topic)
	if err != nil {
		h.t.Fatal(err)
	}
	return offs
}

// waitCommitted waits until the table of topic records every partition's
// end offset (ends: the end offsets to wait for).
func (h *harness) waitCommitted(topic string, ends map[int32]int64, timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := h.tableOffsets(topic)
		ok := true
		for p, end := range ends {
			if end > 0 && got[p] != end {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("table of %s records offsets %v after %s, want %v", topic, got, timeout, ends)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// localLake returns a local directory holding the lake's committed
// objects under prefix: the lake itself for file://, a download otherwise.
func (h *harness) localLake(prefix string) string {
	h.t.Helper()
	if h.lakeDir != "" {
		return h.lakeDir
	}
	dir := h.t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	objs, err := h.store.List(ctx, prefix)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, o := range objs {
		rc, err := h.store.Open(ctx, o.Key)
		if err != nil {
			h.t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(o.Key))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			h.t.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			h.t.Fatal(err)
		}
		if _, err := f.ReadFrom(rc); err != nil {
			h.t.Fatal(err)
		}
		rc.Close()
		f.Close()
	}
	return dir
}

// lakeFiles lists the committed objects under prefix.
func (h *harness) lakeFiles(prefix string) []string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	objs, err := h.store.List(ctx, prefix)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

// duck runs query over DuckDB (an in-memory database) and returns the rows
// as strings. The query may use {lake} for the local lake directory.
func duck(t testing.TB, lakeDir, query string) [][]string {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := strings.ReplaceAll(query, "{lake}", filepath.ToSlash(lakeDir))
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("duckdb %s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
