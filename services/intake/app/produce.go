package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

	encoders readMostly[string, *topicEncoder]
	group    singleflight.Group
}

// topicEncoder is a topic's value encoder and the size of the last value it encoded, so that
// room for a value of a similar size is made at once rather than by repeated growth.
type topicEncoder struct {
	*avro.Encoder
	lastSize atomic.Int64
}

// maxSizeHint caps the room made ahead for one value.
const maxSizeHint = 64 << 10

// appendEncode appends native encoded in the Confluent wire format to dst.
func (e *topicEncoder) appendEncode(dst []byte, native any) ([]byte, error) {
	last := e.lastSize.Load()
	dst = slices.Grow(dst, int(min(last+last/4, maxSizeHint)))
	n := len(dst)
	dst, err := e.AppendEncode(dst, native)
	if err == nil {
		e.lastSize.Store(int64(len(dst) - n))
	}
	return dst, err
}

func newTopics(ensure func(context.Context, ...kafka.TopicSpec) error, serde *avro.Serde, partitions int32, replication int16) *topics {
	return &topics{ensure: ensure, serde: serde, partitions: partitions, replication: replication}
}

// encoder returns the topic's value encoder, creating the topic and registering the schema
// (subject <topic>-value) the first time the topic is seen.
func (t *topics) encoder(ctx context.Context, topic, schema string) (*topicEncoder, error) {
	if enc, ok := t.encoders.get(topic); ok {
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
		t.encoders.set(topic, te)
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

// recordBatch holds the records of one request and everything they point to: the records
// themselves, their headers, and one byte slab with the header values and encoded values. A
// batch whose records were all acknowledged is recycled for a later request (release); one
// whose records may still be in the producer's hands (a failed or timed-out produce) is not.
type recordBatch struct {
	recs    []*kgo.Record
	slab    []kgo.Record
	headers []kgo.RecordHeader
	bytes   []byte
}

var batchPool = sync.Pool{New: func() any { return new(recordBatch) }}

// Batches larger than these are left to the garbage collector rather than kept for reuse.
const (
	maxPooledRecords = 1024
	maxPooledBytes   = 1 << 20
)

// release hands b back for reuse. The caller must not use b or its records afterwards.
func (b *recordBatch) release() {
	if cap(b.slab) > maxPooledRecords || cap(b.bytes) > maxPooledBytes {
		return
	}
	clear(b.recs) // drop the pointers so a smaller later batch does not keep them alive
	clear(b.slab)
	clear(b.headers)
	batchPool.Put(b)
}

// records encodes events as Kafka records with riacho's headers.
func (t *topics) records(ctx context.Context, events []webhook.Event, ingestedAt time.Time) (*recordBatch, error) {
	n := len(events)
	b := batchPool.Get().(*recordBatch)
	b.recs = slices.Grow(b.recs[:0], n)[:n]
	b.slab = slices.Grow(b.slab[:0], n)[:n]
	b.headers = slices.Grow(b.headers[:0], 3*n)[:3*n]
	// Room for the header values and, from each topic's last value size, the encoded values,
	// so that the slab is not regrown record after record.
	size := 20 // the ingested-at microseconds
	for i := range events {
		size += len(events[i].Source) + len(events[i].ID)
	}
	vals := slices.Grow(b.bytes[:0], size)
	vals = strconv.AppendInt(vals, ingestedAt.UnixMicro(), 10)
	ingested := vals[:len(vals):len(vals)]
	for i := range events {
		ev := &events[i]
		enc, err := t.encoder(ctx, ev.Topic, ev.Schema)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", errPrepare, ev.Topic, err)
		}
		m := len(vals)
		vals = append(vals, ev.Source...)
		source := vals[m:len(vals):len(vals)]
		vals = append(vals, ev.ID...)
		id := vals[m+len(source) : len(vals) : len(vals)]
		m = len(vals)
		if vals, err = enc.appendEncode(vals, ev.Value); err != nil {
			return nil, fmt.Errorf("encode %s event %s: %w", ev.Topic, ev.ID, err)
		}
		val := vals[m:len(vals):len(vals)]
		hs := b.headers[3*i : 3*i+3 : 3*i+3]
		hs[0] = kgo.RecordHeader{Key: HeaderSource, Value: source}
		hs[1] = kgo.RecordHeader{Key: HeaderEventID, Value: id}
		hs[2] = kgo.RecordHeader{Key: HeaderIngestedAt, Value: ingested}
		b.slab[i] = kgo.Record{
			Topic:     ev.Topic,
			Key:       ev.Key,
			Value:     val,
			Timestamp: ingestedAt,
			Headers:   hs,
		}
		b.recs[i] = &b.slab[i]
	}
	b.bytes = vals
	return b, nil
}
