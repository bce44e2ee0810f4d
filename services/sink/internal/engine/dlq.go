package engine

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DeadLetter is the JSON value of a record on the dead-letter topic. Key
// and Value are the original bytes (base64 in JSON).
type DeadLetter struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Timestamp time.Time `json:"timestamp"`
	SchemaID  uint32    `json:"schema_id,omitempty"`
	Reason    string    `json:"reason"`
	Key       []byte    `json:"key,omitempty"`
	Value     []byte    `json:"value"`
	Sink      string    `json:"sink"`
}

// Header names of dead-letter records.
const (
	HeaderTopic     = "riacho-topic"
	HeaderPartition = "riacho-partition"
	HeaderOffset    = "riacho-offset"
)

// Dead-letter reasons, the reason label of riacho_sink_dead_letters_total.
const (
	dlqWire         = "wire"         // not the schema-registry wire format
	dlqSchema       = "schema"       // writer schema unknown to the registry or not mappable to Parquet
	dlqDecode       = "decode"       // body does not decode with its writer schema
	dlqConvert      = "convert"      // a value does not fit its Parquet column
	dlqIncompatible = "incompatible" // the table cannot take the writer schema
)

// dlqWait tracks one partition's dead letters not yet acknowledged.
type dlqWait struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

// deadLetter sends rec to the dead-letter topic without waiting; the
// partition waits for every acknowledgement before its next commit.
func (p *partition) deadLetter(ctx context.Context, rec *kgo.Record, schemaID uint32, kind string, reason error) {
	e := p.e
	dl := DeadLetter{
		Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp.UTC(),
		SchemaID: schemaID, Reason: reason.Error(), Key: rec.Key, Value: rec.Value, Sink: e.cfg.Group,
	}
	body, err := json.Marshal(dl)
	if err != nil { // unreachable: every field marshals
		p.dlq.fail(err)
		return
	}
	out := &kgo.Record{
		Topic: e.cfg.DLQTopic,
		Key:   rec.Key,
		Value: body,
		Headers: []kgo.RecordHeader{
			{Key: HeaderTopic, Value: []byte(rec.Topic)},
			{Key: HeaderPartition, Value: []byte(itoa(int64(rec.Partition)))},
			{Key: HeaderOffset, Value: []byte(itoa(rec.Offset))},
		},
	}
	e.metrics.dlq.WithLabelValues(rec.Topic, kind).Inc()
	e.deadLetters.Add(1)
	p.log.Warn("record sent to the dead-letter topic", "offset", rec.Offset, "dlq", e.cfg.DLQTopic, "reason", reason)
	p.dlq.wg.Add(1)
	e.dlqProd.Produce(ctx, out, func(_ *kgo.Record, err error) {
		if err != nil {
			p.dlq.fail(err)
		}
		p.dlq.wg.Done()
	})
}

func (w *dlqWait) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = errors.Join(w.err, err)
}

// wait blocks until every dead letter sent is acknowledged and returns (and
// clears) the failures.
func (w *dlqWait) wait() error {
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	w.err = nil
	return err
}
