// Package cdctest starts the real parts the capture's tests need: a
// Kafka-protocol broker (kfake over TCP), the embedded schema registry, and
// an emitter and state store wired to them; and it reads change records back
// decoded.
package cdctest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

// Env is a broker and a registry for one test.
type Env struct {
	T           testing.TB
	Kafka       *kafkatest.Cluster
	RegistryURL string
	Registry    *avro.Client
	Serde       *avro.Serde
	Logger      *slog.Logger
}

// New starts a broker and a registry, both stopped at the test's cleanup.
func New(t testing.TB) *Env {
	t.Helper()
	kc := kafkatest.NewCluster(t)
	reg, err := registry.New(kc.Addrs(), registry.DefaultConfig(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
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
	return &Env{T: t, Kafka: kc, RegistryURL: srv.URL, Registry: rc, Serde: avro.NewSerde(rc),
		Logger: testlog.New(t, slog.LevelWarn)}
}

// KafkaConfig is the client configuration reaching the test broker.
func (e *Env) KafkaConfig() kafka.Config { return e.Kafka.Config() }

// Emitter returns an emitter producing to the test broker (one partition
// per topic unless opts says otherwise), closed at cleanup.
func (e *Env) Emitter(opts emit.Options) *emit.Emitter {
	e.T.Helper()
	prod, err := kafka.NewProducer(e.KafkaConfig(), kafka.ProducerOptions{Linger: -1})
	if err != nil {
		e.T.Fatal(err)
	}
	e.T.Cleanup(prod.Close)
	if opts.Partitions == 0 {
		opts.Partitions = 1
	}
	if opts.Logger == nil {
		opts.Logger = e.Logger
	}
	return emit.New(prod, avro.NewSerde(e.Registry), opts)
}

// State opens the state store on topic (state.DefaultTopic when empty), closed at cleanup.
func (e *Env) State(topic string) *state.Store {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.Open(ctx, e.KafkaConfig(), topic, e.Logger)
	if err != nil {
		e.T.Fatal(err)
	}
	e.T.Cleanup(st.Close)
	return st
}

// Change is one record read back: Value is the decoded envelope (nil for a
// tombstone), Key the decoded key (nil without one).
type Change struct {
	Record *kgo.Record
	Key    map[string]any
	Value  map[string]any
}

// Op is the envelope's op, "" for a tombstone.
func (c Change) Op() string {
	if c.Value == nil {
		return ""
	}
	s, _ := c.Value["op"].(string)
	return s
}

// After is the after row with union wrappers removed (nil when null).
func (c Change) After() map[string]any { return c.row("after") }

// Before is the before row with union wrappers removed (nil when null).
func (c Change) Before() map[string]any { return c.row("before") }

// Source is the source block with union wrappers removed.
func (c Change) Source() map[string]any {
	if c.Value == nil {
		return nil
	}
	src, _ := c.Value["source"].(map[string]any)
	return Unwrap(src)
}

func (c Change) row(field string) map[string]any {
	if c.Value == nil {
		return nil
	}
	u, _ := c.Value[field].(map[string]any)
	for _, v := range u { // the single union branch
		r, _ := v.(map[string]any)
		return Unwrap(r)
	}
	return nil
}

// Unwrap replaces every {"branch": v} union value of m by v.
func Unwrap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = unwrapValue(v)
	}
	return out
}

func unwrapValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for _, inner := range x {
				return unwrapValue(inner)
			}
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = unwrapValue(e)
		}
		return out
	}
	return v
}

// ReadAll reads every record of topic present now (up to the end offsets
// listed when it starts), decoded, in partition-then-offset order.
func (e *Env) ReadAll(topic string) []Change {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kafka.NewClient(e.KafkaConfig(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		e.T.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		e.T.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []Change
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.T.Fatalf("read %s: %v (still waiting for partitions %v)", topic, ctx.Err(), want)
		}
		fs.EachError(func(_ string, p int32, err error) { e.T.Fatalf("read %s partition %d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			c := Change{Record: r}
			if r.Key != nil {
				k, _, err := e.Serde.Decode(ctx, r.Key)
				if err != nil {
					e.T.Fatalf("decode key %s@%d/%d: %v", topic, r.Partition, r.Offset, err)
				}
				c.Key, _ = k.(map[string]any)
			}
			if r.Value != nil {
				v, _, err := e.Serde.Decode(ctx, r.Value)
				if err != nil {
					e.T.Fatalf("decode %s@%d/%d: %v", topic, r.Partition, r.Offset, err)
				}
				c.Value, _ = v.(map[string]any)
			}
			out = append(out, c)
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return out
}
