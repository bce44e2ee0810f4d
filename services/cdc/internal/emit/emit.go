// Package emit turns change events into Kafka records and produces them:
// it creates each table's topic, registers the table's key and value
// schemas, encodes events in the Confluent wire format, and writes records
// that cannot be encoded to a dead-letter topic with the reason.
package emit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

// DefaultDLQTopic receives records the capture could not encode.
const DefaultDLQTopic = "dlq.cdc"

// Record headers set on every change record.
const (
	HeaderSource = "riacho-source"
	HeaderOp     = "riacho-op"
	HeaderLSN    = "riacho-lsn"
	HeaderTable  = "riacho-table"
	HeaderReason = "riacho-reason"
)

// Options tunes an Emitter. The zero value is usable.
type Options struct {
	// Partitions and Replication are used for topics the emitter creates;
	// 0 asks for the broker's default.
	Partitions  int32
	Replication int16
	// DLQTopic receives undecodable or unencodable changes; DefaultDLQTopic when empty.
	DLQTopic   string
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Emitter produces change records. It is safe for concurrent use.
type Emitter struct {
	prod  *kafka.Producer
	serde *avro.Serde
	opts  Options
	log   *slog.Logger

	mu      sync.Mutex
	streams map[string]*Stream // by topic
	topics  map[string]bool    // topics known to exist

	records  *prometheus.CounterVec
	dlq      *prometheus.CounterVec
	schemas  *prometheus.CounterVec
	produced atomic.Uint64 // records acknowledged, every topic
}

// Produced is how many records Kafka acknowledged since the Emitter began.
func (e *Emitter) Produced() uint64 { return e.produced.Load() }

// New returns an Emitter writing through prod and registering schemas through serde.
func New(prod *kafka.Producer, serde *avro.Serde, opts Options) *Emitter {
	if opts.DLQTopic == "" {
		opts.DLQTopic = DefaultDLQTopic
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Emitter{
		prod: prod, serde: serde, opts: opts, log: log,
		streams: map[string]*Stream{}, topics: map[string]bool{},
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_cdc_records_produced_total",
			Help: "Change records acknowledged by Kafka, tombstones included, by topic.",
		}, []string{"topic"}),
		dlq: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_cdc_dead_letters_total",
			Help: "Changes written to the dead-letter topic, by source table.",
		}, []string{"table"}),
		schemas: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riacho_cdc_schema_registrations_total",
			Help: "Table schemas registered (new tables and changed shapes), by topic.",
		}, []string{"topic"}),
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{e.records, e.dlq, e.schemas} {
			if err := opts.Registerer.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					log.Warn("emit: metric not registered", "err", err)
				}
			}
		}
	}
	return e
}

// Stream writes the events of one table shape.
type Stream struct {
	e       *Emitter
	table   *envelope.Table
	topic   string
	value   *avro.Encoder
	key     *avro.Encoder // nil without a key
	schema  string
	kschema string
	counter prometheus.Counter
}

// Table is the table the stream writes.
func (s *Stream) Table() *envelope.Table { return s.table }

// Topic is the stream's topic.
func (s *Stream) Topic() string { return s.topic }

// ValueSchemaID is the registry id of the stream's value schema.
func (s *Stream) ValueSchemaID() uint32 { return s.value.ID() }

// Prepare makes t's topic exist and registers its key and value schemas
// under <topic>-key and <topic>-value. Call it again whenever t's columns
// change: a compatible change registers a new version; an incompatible one
// returns an error wrapping avro.ErrIncompatible with the registry's reason.
// t must not be changed after Prepare (a changed table is a new Table).
func (e *Emitter) Prepare(ctx context.Context, t *envelope.Table) (*Stream, error) {
	if err := t.Compile(); err != nil {
		return nil, err
	}
	vs, err := t.ValueSchema()
	if err != nil {
		return nil, err
	}
	ks, err := t.KeySchema()
	if err != nil {
		return nil, err
	}
	topic := t.Topic()
	e.mu.Lock()
	old := e.streams[topic]
	known := e.topics[topic]
	e.mu.Unlock()
	if old != nil && old.schema == vs && old.kschema == ks {
		// Same shape: keep the encoders, take the new table value.
		s := *old
		s.table = t
		return &s, nil
	}
	if !known {
		if err := e.ensureTopic(ctx, topic); err != nil {
			return nil, err
		}
	}
	value, err := e.serde.Encoder(ctx, topic+"-value", vs)
	if err != nil {
		return nil, fmt.Errorf("table %s: register value schema of %s: %w", t.ID(), topic, err)
	}
	var key *avro.Encoder
	if ks != "" {
		if key, err = e.serde.Encoder(ctx, topic+"-key", ks); err != nil {
			return nil, fmt.Errorf("table %s: register key schema of %s: %w", t.ID(), topic, err)
		}
	}
	s := &Stream{e: e, table: t, topic: topic, value: value, key: key, schema: vs, kschema: ks,
		counter: e.records.WithLabelValues(topic)}
	e.mu.Lock()
	e.streams[topic] = s
	e.mu.Unlock()
	e.schemas.WithLabelValues(topic).Inc()
	e.log.Info("table schema registered", "table", t.ID(), "topic", topic, "value_schema_id", value.ID())
	return s, nil
}

func (e *Emitter) ensureTopic(ctx context.Context, topic string) error {
	err := kafka.EnsureTopics(ctx, e.prod.Client(), kafka.TopicSpec{
		Name: topic, Partitions: e.opts.Partitions, ReplicationFactor: e.opts.Replication,
	})
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	e.mu.Lock()
	e.topics[topic] = true
	e.mu.Unlock()
	return nil
}

// Records encodes ev: the change record, keyed by the primary key taken
// from After (Before for deletes), and for a delete a tombstone with the
// same key after it, so compacted topics forget the row.
func (s *Stream) Records(ev *envelope.Event) ([]*kgo.Record, error) {
	native, err := s.table.Value(ev)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", s.table.ID(), err)
	}
	val, err := s.value.Encode(native)
	if err != nil {
		return nil, fmt.Errorf("table %s: encode %c event: %w", s.table.ID(), ev.Op, err)
	}
	var key []byte
	if s.key != nil && ev.Op != envelope.OpTruncate {
		row := ev.After
		if ev.Op == envelope.OpDelete || row == nil {
			row = ev.Before
		}
		k, err := s.table.KeyOf(row)
		if err != nil {
			return nil, err
		}
		if key, err = s.key.Encode(k); err != nil {
			return nil, fmt.Errorf("table %s: encode key: %w", s.table.ID(), err)
		}
	}
	headers := []kgo.RecordHeader{
		{Key: HeaderSource, Value: []byte(s.table.Source)},
		{Key: HeaderTable, Value: []byte(s.table.ID())},
		{Key: HeaderOp, Value: []byte{byte(ev.Op)}},
	}
	if ev.Source.LSN != 0 {
		headers = append(headers, kgo.RecordHeader{Key: HeaderLSN, Value: strconv.AppendInt(nil, ev.Source.LSN, 10)})
	}
	recs := []*kgo.Record{{Topic: s.topic, Key: key, Value: val, Headers: headers}}
	if ev.Op == envelope.OpDelete && key != nil {
		recs = append(recs, &kgo.Record{Topic: s.topic, Key: key, Headers: headers})
	}
	return recs, nil
}

// Produce sends recs without waiting. done (which may be nil) runs once:
// after every record was acknowledged, or with the first failure. It runs
// on the client's promise goroutine: keep it short.
func (e *Emitter) Produce(ctx context.Context, recs []*kgo.Record, done func(error)) {
	if len(recs) == 0 {
		if done != nil {
			done(nil)
		}
		return
	}
	var (
		pending = int64(len(recs))
		failed  atomic.Bool
	)
	var left atomic.Int64
	left.Store(pending)
	for _, r := range recs {
		e.prod.Produce(ctx, r, func(r *kgo.Record, err error) {
			if err != nil {
				if failed.CompareAndSwap(false, true) && done != nil {
					done(fmt.Errorf("produce to %s: %w", r.Topic, err))
				}
			} else {
				e.records.WithLabelValues(r.Topic).Inc()
				e.produced.Add(1)
			}
			if left.Add(-1) == 0 && !failed.Load() && done != nil {
				done(nil)
			}
		})
	}
}

// ProduceSync sends recs and waits until every one was acknowledged.
func (e *Emitter) ProduceSync(ctx context.Context, recs []*kgo.Record) error {
	if err := e.prod.ProduceAll(ctx, recs); err != nil {
		return err
	}
	for _, r := range recs {
		e.records.WithLabelValues(r.Topic).Inc()
	}
	e.produced.Add(uint64(len(recs)))
	return nil
}

// Flush waits until every record produced so far was answered.
func (e *Emitter) Flush(ctx context.Context) error { return e.prod.Flush(ctx) }

// DeadLetter is the JSON document written to the dead-letter topic.
type DeadLetter struct {
	Source  string `json:"source"`
	Table   string `json:"table"`
	Topic   string `json:"topic"`
	Reason  string `json:"reason"`
	Payload any    `json:"payload"`
	TsMs    int64  `json:"ts_ms"`
}

// DeadLetter writes one change that could not be encoded, with the reason,
// to the dead-letter topic and waits for the acknowledgement. payload
// should hold everything needed to replay the change (for a row: its
// column values as text).
func (e *Emitter) DeadLetter(ctx context.Context, t *envelope.Table, reason error, payload any) error {
	e.mu.Lock()
	known := e.topics[e.opts.DLQTopic]
	e.mu.Unlock()
	if !known {
		if err := e.ensureTopic(ctx, e.opts.DLQTopic); err != nil {
			return err
		}
	}
	msg := "unknown"
	if reason != nil {
		msg = reason.Error()
	}
	doc := DeadLetter{Source: t.Source, Table: t.ID(), Topic: t.Topic(), Reason: msg, Payload: payload, TsMs: time.Now().UnixMilli()}
	b, err := json.Marshal(doc)
	if err != nil {
		// A payload JSON cannot hold (a NaN float, say) is kept as text.
		doc.Payload = fmt.Sprintf("%v", payload)
		if b, err = json.Marshal(doc); err != nil {
			return fmt.Errorf("dead letter for %s: %w", t.ID(), err)
		}
	}
	rec := &kgo.Record{Topic: e.opts.DLQTopic, Key: []byte(t.Topic()), Value: b, Headers: []kgo.RecordHeader{
		{Key: HeaderSource, Value: []byte(t.Source)},
		{Key: HeaderTable, Value: []byte(t.ID())},
		{Key: HeaderReason, Value: []byte(truncate(msg, 1024))},
	}}
	if err := e.prod.ProduceAll(ctx, []*kgo.Record{rec}); err != nil {
		return fmt.Errorf("dead letter for %s: %w", t.ID(), err)
	}
	e.dlq.WithLabelValues(t.ID()).Inc()
	e.log.Warn("change sent to the dead-letter topic", "table", t.ID(), "dlq", e.opts.DLQTopic, "reason", msg)
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
