package emit_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/cdc/internal/cdctest"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

func table(cols ...envelope.Field) *envelope.Table {
	base := []envelope.Field{
		{Name: "id", Type: "long"},
		{Name: "amount", Type: map[string]any{"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
	}
	return &envelope.Table{Source: "erp", Connector: "postgresql", DB: "books", Schema: "public", Name: "orders",
		Columns: append(base, cols...), Key: []string{"id"}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestEveryOpAndTombstone(t *testing.T) {
	env := cdctest.New(t)
	reg := prometheus.NewRegistry()
	em := env.Emitter(emit.Options{Registerer: reg})
	s, err := em.Prepare(ctx(t), table())
	if err != nil {
		t.Fatal(err)
	}
	amt := big.NewRat(1999, 100)
	evs := []*envelope.Event{
		{Op: envelope.OpRead, After: envelope.Row{"id": int64(1), "amount": amt}, Source: envelope.SourceInfo{Snapshot: "true", LSN: 10}},
		{Op: envelope.OpCreate, After: envelope.Row{"id": int64(2), "amount": amt}, Source: envelope.SourceInfo{LSN: 20, TxID: 5}},
		{Op: envelope.OpUpdate, Before: envelope.Row{"id": int64(2)}, After: envelope.Row{"id": int64(2), "amount": big.NewRat(1, 1)}, Source: envelope.SourceInfo{LSN: 30}},
		{Op: envelope.OpDelete, Before: envelope.Row{"id": int64(1)}, Source: envelope.SourceInfo{LSN: 40}},
		{Op: envelope.OpTruncate, Source: envelope.SourceInfo{LSN: 50}},
	}
	var all [][]byte
	done := make(chan error, len(evs))
	for _, ev := range evs {
		recs, err := s.Records(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			all = append(all, r.Key)
		}
		em.Produce(ctx(t), recs, func(err error) { done <- err })
	}
	for range evs {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got := env.ReadAll("raw.erp.public.orders")
	ops := ""
	for _, c := range got {
		if c.Op() == "" {
			ops += "~"
		} else {
			ops += c.Op()
		}
	}
	if ops != "rcud~t" {
		t.Fatalf("ops %q, want rcud~t (tombstone after the delete)", ops)
	}
	if got[3].Key["id"] != int64(1) || got[4].Key["id"] != int64(1) || got[4].Value != nil {
		t.Fatalf("delete and tombstone keys: %v %v", got[3].Key, got[4].Key)
	}
	if got[5].Record.Key != nil {
		t.Fatalf("truncate has a key: %v", got[5].Key)
	}
	if a := got[1].After(); a["amount"].(*big.Rat).Cmp(amt) != 0 {
		t.Fatalf("amount %v", a["amount"])
	}
	if src := got[1].Source(); src["lsn"] != int64(20) || src["txId"] != int64(5) {
		t.Fatalf("source %v", src)
	}
	for _, h := range got[2].Record.Headers {
		if h.Key == emit.HeaderLSN && string(h.Value) != "30" {
			t.Fatalf("lsn header %q", h.Value)
		}
	}
	if n := testutil.ToFloat64(mustCounter(t, reg, "riacho_cdc_records_produced_total")); n != 6 {
		t.Fatalf("records counter %v, want 6", n)
	}
	_ = all
}

func mustCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
	c.Add(sum)
	return c
}

func TestSchemaEvolution(t *testing.T) {
	env := cdctest.New(t)
	em := env.Emitter(emit.Options{})
	s1, err := em.Prepare(ctx(t), table())
	if err != nil {
		t.Fatal(err)
	}
	again, err := em.Prepare(ctx(t), table())
	if err != nil || again.ValueSchemaID() != s1.ValueSchemaID() {
		t.Fatalf("same shape re-registered: %v %d %d", err, again.ValueSchemaID(), s1.ValueSchemaID())
	}
	s2, err := em.Prepare(ctx(t), table(envelope.Field{Name: "note", Type: "string"}))
	if err != nil {
		t.Fatalf("adding a column: %v", err)
	}
	if s2.ValueSchemaID() == s1.ValueSchemaID() {
		t.Fatal("added column kept the old schema id")
	}
	latest, err := env.Registry.Latest(ctx(t), "raw.erp.public.orders-value")
	if err != nil {
		t.Fatal(err)
	}
	if latest.Version != 2 || latest.ID != int(s2.ValueSchemaID()) {
		t.Fatalf("latest %+v, want version 2 with id %d", latest, s2.ValueSchemaID())
	}
	// Changing a column's type is refused by the registry (BACKWARD).
	bad := table()
	bad.Columns[1] = envelope.Field{Name: "amount", Type: "boolean"}
	if _, err := em.Prepare(ctx(t), bad); !errors.Is(err, avro.ErrIncompatible) {
		t.Fatalf("incompatible change: %v", err)
	}
}

func TestDeadLetter(t *testing.T) {
	env := cdctest.New(t)
	em := env.Emitter(emit.Options{})
	tb := table()
	if err := em.DeadLetter(ctx(t), tb, errors.New("numeric NaN cannot be represented"), map[string]any{"id": "7", "amount": "NaN"}); err != nil {
		t.Fatal(err)
	}
	recs := env.Kafka.Consume(t, emit.DefaultDLQTopic, 1, 10*time.Second)
	var dl emit.DeadLetter
	if err := json.Unmarshal(recs[0].Value, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Table != "public.orders" || !strings.Contains(dl.Reason, "NaN") || dl.Topic != "raw.erp.public.orders" {
		t.Fatalf("dead letter %+v", dl)
	}
	if dl.Payload.(map[string]any)["amount"] != "NaN" {
		t.Fatalf("payload %v", dl.Payload)
	}
}

func TestRecordsRejectsBadValues(t *testing.T) {
	env := cdctest.New(t)
	em := env.Emitter(emit.Options{})
	s, err := em.Prepare(ctx(t), table())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Records(&envelope.Event{Op: envelope.OpCreate, After: envelope.Row{"id": "not a long"}}); err == nil {
		t.Fatal("wrong Go type accepted")
	}
	if _, err := s.Records(&envelope.Event{Op: envelope.OpCreate, After: envelope.Row{"amount": big.NewRat(1, 1)}}); err == nil {
		t.Fatal("missing key accepted")
	}
}
