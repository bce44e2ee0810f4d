package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
)

// recoverDedupe rebuilds the model's de-duplication state from its output
// topic: every committed record emitted within the window, read up to the
// last stable offset (read_committed, so rows of aborted batches never
// count). It returns the number of records read.
func (r *runner) recoverDedupe(ctx context.Context) (int, error) {
	r.dd = newDedupe(r.m.Config.DedupeWindow)
	if !r.dd.enabled() || len(r.m.Config.UniqueKey) == 0 {
		return 0, nil
	}
	adm := kadm.NewClient(r.e.admin)
	topic := r.m.OutputTopic
	since := time.Now().Add(-r.m.Config.DedupeWindow)
	var starts, ends kadm.ListedOffsets
	err := retryUnknownTopic(ctx, func() error {
		var err error
		if starts, err = adm.ListOffsetsAfterMilli(ctx, since.UnixMilli(), topic); err == nil {
			err = starts.Error()
		}
		if err == nil {
			if ends, err = adm.ListCommittedOffsets(ctx, topic); err == nil {
				err = ends.Error()
			}
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recover de-duplication state from %s: %w", topic, err)
	}
	from := map[int32]kgo.Offset{}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		start, ok := starts.Lookup(topic, o.Partition)
		if !ok || start.Offset < 0 || start.Offset >= o.Offset {
			return
		}
		from[o.Partition] = kgo.NewOffset().At(start.Offset)
		want[o.Partition] = o.Offset
	})
	if len(want) == 0 {
		return 0, nil
	}
	cl, err := kafka.NewClient(r.e.deps.Kafka,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	serde := avro.NewSerde(r.e.deps.Registry)
	n := 0
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var ferr error
		fs.EachError(func(_ string, p int32, err error) { ferr = errors.Join(ferr, fmt.Errorf("partition %d: %w", p, err)) })
		if ferr != nil {
			return n, fmt.Errorf("recover de-duplication state from %s: %w", topic, ferr)
		}
		for _, rec := range fs.Records() {
			if end, ok := want[rec.Partition]; ok && rec.Offset+1 >= end {
				delete(want, rec.Partition)
			}
			if rec.Attrs.IsControl() || rec.Value == nil || len(rec.Value) < avro.HeaderSize || rec.Key == nil {
				continue
			}
			e := entry{hash: xxhash.Sum64(rec.Value[avro.HeaderSize:]), at: rec.Timestamp.UnixMilli()}
			if vc := r.m.Config.VersionColumn; vc != "" {
				native, _, err := serde.Decode(ctx, rec.Value)
				if err != nil {
					return n, fmt.Errorf("recover de-duplication state: decode %s/%d@%d: %w", topic, rec.Partition, rec.Offset, err)
				}
				if m, ok := native.(map[string]any); ok {
					e.version = normalizeVersion(m[vc])
				}
			}
			r.dd.load(string(rec.Key), e)
			n++
		}
	}
	return n, nil
}

// retryUnknownTopic repeats fn while the topic is not yet in the metadata
// of every broker (it was created a moment ago).
func retryUnknownTopic(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !errors.Is(err, kerr.UnknownTopicOrPartition) || attempt == 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
