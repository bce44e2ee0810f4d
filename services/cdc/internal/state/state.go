// Package state keeps the capture's durable positions (cursors, slot and
// snapshot progress) as JSON documents in a compacted Kafka topic: a key per
// position, the newest record per key wins, a tombstone deletes it.
//
// A Store reads the whole topic at Open and then serves reads from memory;
// Put returns once Kafka acknowledged the new value (acks=all, idempotent
// producer), so a position is never reported as saved before it is. Only
// one process may write a given key space at a time (one capture per
// source); the store does not fence a second writer.
package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
)

// DefaultTopic is the state topic used when none is configured.
const DefaultTopic = "_riacho_cdc_state"

// Store is a durable key → JSON document map. It is safe for concurrent use.
type Store struct {
	topic string
	prod  *kafka.Producer
	log   *slog.Logger

	mu   sync.RWMutex
	docs map[string]json.RawMessage
}

// Open creates the compacted topic when missing, reads it to its end and
// returns the store.
func Open(ctx context.Context, cfg kafka.Config, topic string, logger *slog.Logger) (*Store, error) {
	if topic == "" {
		topic = DefaultTopic
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	prod, err := kafka.NewProducer(cfg, kafka.ProducerOptions{Linger: -1})
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", topic, err)
	}
	s := &Store{topic: topic, prod: prod, log: logger, docs: map[string]json.RawMessage{}}
	if err := kafka.EnsureTopics(ctx, prod.Client(), kafka.TopicSpec{
		Name: topic, Partitions: 1,
		Configs: map[string]string{"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
	}); err != nil {
		prod.Close()
		return nil, fmt.Errorf("state %s: %w", topic, err)
	}
	if err := s.load(ctx, cfg); err != nil {
		prod.Close()
		return nil, err
	}
	logger.Info("state loaded", "topic", topic, "keys", len(s.docs))
	return s, nil
}

// load reads every partition of the topic from the start to the end offsets
// listed when it began.
func (s *Store) load(ctx context.Context, cfg kafka.Config) error {
	var ends kadm.ListedOffsets
	for attempt := 0; ; attempt++ {
		var err error
		ends, err = kadm.NewClient(s.prod.Client()).ListEndOffsets(ctx, s.topic)
		if err == nil {
			err = ends.Error()
		}
		if err == nil {
			break
		}
		// A topic created a moment ago may not be in every broker's
		// metadata yet.
		if !errors.Is(err, kerr.UnknownTopicOrPartition) || attempt == 50 {
			return fmt.Errorf("state %s: list end offsets: %w", s.topic, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("state %s: list end offsets: %w", s.topic, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	if len(want) == 0 {
		return nil
	}
	cl, err := kafka.NewClient(cfg,
		kgo.ConsumeTopics(s.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return fmt.Errorf("state %s: %w", s.topic, err)
	}
	defer cl.Close()
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("state %s: read: %w", s.topic, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("partition %d: %w", p, err))
		})
		if ferr != nil {
			return fmt.Errorf("state %s: read: %w", s.topic, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			s.apply(string(r.Key), r.Value)
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return nil
}

func (s *Store) apply(key string, value []byte) {
	if value == nil {
		delete(s.docs, key)
		return
	}
	s.docs[key] = json.RawMessage(value)
}

// Get decodes the document under key into v; false when there is none.
func (s *Store) Get(key string, v any) (bool, error) {
	s.mu.RLock()
	doc, ok := s.docs[key]
	s.mu.RUnlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return true, fmt.Errorf("state %s: key %q: %w", s.topic, key, err)
	}
	return true, nil
}

// Keys returns every key, for status pages and tests.
func (s *Store) Keys() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.docs))
}

// Put stores v (as JSON) under key and returns once Kafka acknowledged it.
func (s *Store) Put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("state %s: key %q: %w", s.topic, key, err)
	}
	return s.write(ctx, key, b)
}

// Delete removes key (a tombstone) and returns once Kafka acknowledged it.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.write(ctx, key, nil)
}

func (s *Store) write(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return fmt.Errorf("state %s: empty key", s.topic)
	}
	rec := &kgo.Record{Topic: s.topic, Key: []byte(key), Value: value}
	if err := s.prod.ProduceAll(ctx, []*kgo.Record{rec}); err != nil {
		return fmt.Errorf("state %s: save %q: %w", s.topic, key, err)
	}
	s.mu.Lock()
	s.apply(key, value)
	s.mu.Unlock()
	return nil
}

// Close releases the store's Kafka client.
func (s *Store) Close() { s.prod.Close() }
