package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/singleflight"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/intake/internal/webhook"
)

// Header names every riacho record carries.
const (
	HeaderSource     = "riacho-source"
	HeaderEventID    = "riacho-event-id"
	HeaderIngestedAt = "riacho-ingested-at"
)

// errPrepare marks a failure to create a topic or register its schema.
var errPrepare = errors.New("prepare topic")

// isUnavailable tells whether a records error comes from an unreachable dependency (Kafka or
// the registry) rather than from the data or the schemas themselves.
func isUnavailable(err error) bool {
	return errors.Is(err, errPrepare) && !errors.Is(err, avro.ErrIncompatible) && !errors.Is(err, avro.ErrInvalidSchema)
}

// ErrUnavailable means Kafka did not acknowledge the events in time; the caller answers 503.
var ErrUnavailable = errors.New("kafka unavailable")

// topics prepares topics and value encoders: fixed topics at start-up, generic ones on first use.
type topics struct {
	ensure      func(ctx context.Context, specs ...kafka.TopicSpec) error
	serde       *avro.Serde
	partitions  int32
	replication int16

	mu       sync.RWMutex
	encoders map[string]*topicEncoder
	group    singleflight.Group
}

// topicEncoder is a topic's value encoder and the size of the last value it encoded, so a value
// of a similar size is encoded into one allocation instead of a repeatedly grown one.
type topicEncoder struct {
	*avro.Encoder
	lastSize atomic.Int64
}

// maxSizeHint caps the buffer preallocated for one value.
const maxSizeHint = 64 << 10

// encode returns native encoded in the Confluent wire format.
func (e *topicEncoder) encode(native any) ([]byte, error) {
	last := e.lastSize.Load()
	val, err := e.AppendEncode(make([]byte, 0, min(last+last/4, maxSizeHint)), native)
	if err == nil {
		e.lastSize.Store(int64(len(val)))
	}
	return val, err
}

func newTopics(ensure func(context.Context, ...kafka.TopicSpec) error, serde *avro.Serde, partitions int32, replication int16) *topics {
	return &topics{ensure: ensure, serde: serde, partitions: partitions, replication: replication,
		encoders: make(map[string]*topicEncoder)}
}

// encoder returns the topic's value encoder, creating the topic and registering the schema
// (subject <topic>-value) the first time the topic is seen.
func (t *topics) encoder(ctx context.Context, topic, schema string) (*topicEncoder, error) {
	t.mu.RLock()
	enc := t.encoders[topic]
	t.mu.RUnlock()
	if enc != nil {
		return enc, nil
	}
	v, err, _ := t.group.Do(topic, func() (any, error) {
		if err := t.ensure(ctx, kafka.TopicSpec{
			Name: topic, Partitions: t.partitions, ReplicationFactor: t.replication,
		}); err != nil {
			return nil, fmt.Errorf("create topic %s: %w", topic, err)
		}
		enc, err := t.serde.Encoder(ctx, topic+"-value", schema)
		if err != nil {
			return nil, fmt.Errorf("register schema for %s: %w", topic, err)
		}
		te := &topicEncoder{Encoder: enc}
		t.mu.Lock()
		t.encoders[topic] = te
		t.mu.Unlock()
		return te, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*topicEncoder), nil
}

// prepare creates every given topic and registers its schema.
func (t *topics) prepare(ctx context.Context, schemas map[string]string) error {
	var errs []error
	for topic, schema := range schemas {
		if _, err := t.encoder(ctx, topic, schema); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// records encodes events as Kafka records with riacho's headers.
func (t *topics) records(ctx context.Context, events []webhook.Event, ingestedAt time.Time) ([]*kgo.Record, error) {
	recs := make([]*kgo.Record, len(events))
	// One allocation each for the records, their headers and the header values.
	slab := make([]kgo.Record, len(events))
	headers := make([]kgo.RecordHeader, 3*len(events))
	size := 20 // the ingested-at microseconds
	for i := range events {
		size += len(events[i].Source) + len(events[i].ID)
	}
	vals := make([]byte, 0, size)
	vals = strconv.AppendInt(vals, ingestedAt.UnixMicro(), 10)
	ingested := vals[:len(vals):len(vals)]
	for i := range events {
		ev := &events[i]
		enc, err := t.encoder(ctx, ev.Topic, ev.Schema)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", errPrepare, ev.Topic, err)
		}
		val, err := enc.encode(ev.Value)
		if err != nil {
			return nil, fmt.Errorf("encode %s event %s: %w", ev.Topic, ev.ID, err)
		}
		n := len(vals)
		vals = append(vals, ev.Source...)
		source := vals[n:len(vals):len(vals)]
		vals = append(vals, ev.ID...)
		id := vals[n+len(source) : len(vals) : len(vals)]
		hs := headers[3*i : 3*i+3 : 3*i+3]
		hs[0] = kgo.RecordHeader{Key: HeaderSource, Value: source}
		hs[1] = kgo.RecordHeader{Key: HeaderEventID, Value: id}
		hs[2] = kgo.RecordHeader{Key: HeaderIngestedAt, Value: ingested}
		slab[i] = kgo.Record{
			Topic:     ev.Topic,
			Key:       ev.Key,
			Value:     val,
			Timestamp: ingestedAt,
			Headers:   hs,
		}
		recs[i] = &slab[i]
	}
	return recs, nil
}
