package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ensureTopic creates the registry topic (1 partition, compacted) if it is
// missing and checks an existing one has that shape.
func (r *Registry) ensureTopic(ctx context.Context) error {
	adm := kadm.NewClient(r.writer)
	compact := "compact"
	rf := int16(r.cfg.ReplicationFactor) //nolint:gosec // Validate bounds it to -1..32767
	resp, err := adm.CreateTopic(ctx, 1, rf,
		map[string]*string{"cleanup.policy": &compact}, r.cfg.Topic)
	switch {
	case err == nil:
		r.log.Info("created registry topic", "topic", r.cfg.Topic, "replication_factor", resp.ReplicationFactor)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
	default:
		return fmt.Errorf("create topic %s: %w", r.cfg.Topic, err)
	}

	topics, err := adm.ListTopics(ctx, r.cfg.Topic)
	if err != nil {
		return fmt.Errorf("describe topic %s: %w", r.cfg.Topic, err)
	}
	td, ok := topics[r.cfg.Topic]
	if !ok {
		return fmt.Errorf("describe topic %s: not in the metadata answer", r.cfg.Topic)
	}
	if td.Err != nil {
		return fmt.Errorf("describe topic %s: %w", r.cfg.Topic, td.Err)
	}
	if n := len(td.Partitions); n != 1 {
		return fmt.Errorf("%w: topic %s has %d partitions, want 1", ErrTopicMisconfigured, r.cfg.Topic, n)
	}
	cfgs, err := adm.DescribeTopicConfigs(ctx, r.cfg.Topic)
	if err != nil {
		return fmt.Errorf("describe topic %s configs: %w", r.cfg.Topic, err)
	}
	rc, err := cfgs.On(r.cfg.Topic, nil)
	if err != nil {
		return fmt.Errorf("describe topic %s configs: %w", r.cfg.Topic, err)
	}
	if rc.Err != nil {
		return fmt.Errorf("describe topic %s configs: %w", r.cfg.Topic, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && (c.Value == nil || !strings.Contains(*c.Value, "compact")) {
			v := "<nil>"
			if c.Value != nil {
				v = *c.Value
			}
			return fmt.Errorf("%w: topic %s has cleanup.policy=%s, want compact", ErrTopicMisconfigured, r.cfg.Topic, v)
		}
	}
	return nil
}

// loadTarget returns the offset Start must read up to: the high watermark of
// the registry partition, or 0 when the partition holds no record at all
// (empty, or emptied by retention).
func (r *Registry) loadTarget(ctx context.Context) (int64, error) {
	adm := kadm.NewClient(r.writer)
	lookup := func(what string, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (int64, error) {
		offs, err := list(ctx, r.cfg.Topic)
		if err != nil {
			return 0, fmt.Errorf("list %s offset of %s: %w", what, r.cfg.Topic, err)
		}
		o, ok := offs.Lookup(r.cfg.Topic, 0)
		if !ok {
			return 0, fmt.Errorf("list %s offset of %s: partition 0 missing", what, r.cfg.Topic)
		}
		if o.Err != nil {
			return 0, fmt.Errorf("list %s offset of %s: %w", what, r.cfg.Topic, o.Err)
		}
		return o.Offset, nil
	}
	end, err := lookup("end", adm.ListEndOffsets)
	if err != nil {
		return 0, err
	}
	start, err := lookup("start", adm.ListStartOffsets)
	if err != nil {
		return 0, err
	}
	if start >= end {
		return 0, nil
	}
	return end, nil
}

// tail reads the registry topic from the beginning and applies every record
// until ctx ends or the reader is closed.
func (r *Registry) tail(ctx context.Context) {
	for {
		fetches := r.reader.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		var failed bool
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			failed = true
			r.log.Warn("read registry topic", "topic", topic, "partition", p, "error", err)
		})
		n := 0
		fetches.EachRecord(func(rec *kgo.Record) {
			n++
			if err := r.state.apply(rec.Key, rec.Value, rec.Offset); err != nil {
				r.log.Warn("skip registry record", "offset", rec.Offset, "error", err)
			}
			r.metrics.recordsRead.Inc()
			r.state.advance(rec.Offset)
		})
		if failed && n == 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
}

// record is one key/value to write; a nil value is a tombstone.
type record struct {
	key, value []byte
}

// write produces recs with acks=all and applies each acknowledged record to
// memory. It gives up after Config.WriteTimeout even if the client is still
// retrying; a record that lands later is applied by the tailer. The caller
// holds writeMu. A caller that goes away (an HTTP client hanging up) does not
// cancel the write, so a write is never cut short by anything but its timeout.
func (r *Registry) write(ctx context.Context, recs ...record) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.WriteTimeout)
	defer cancel()
	var (
		mu      sync.Mutex
		results = make([]kgo.ProduceResult, 0, len(recs))
		pending sync.WaitGroup
		done    = make(chan struct{})
	)
	pending.Add(len(recs))
	for _, rec := range recs {
		kr := &kgo.Record{Topic: r.cfg.Topic, Partition: 0, Key: rec.key, Value: rec.value}
		r.writer.Produce(ctx, kr, func(kr *kgo.Record, err error) {
			mu.Lock()
			results = append(results, kgo.ProduceResult{Record: kr, Err: err})
			mu.Unlock()
			pending.Done()
		})
	}
	go func() {
		pending.Wait()
		close(done)
	}()
	var errs []error
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("no acknowledgement within %v: %w", r.cfg.WriteTimeout, ctx.Err()))
	}
	mu.Lock()
	acked := slices.Clone(results)
	mu.Unlock()
	for _, res := range acked {
		if res.Err != nil {
			errs = append(errs, res.Err)
			continue
		}
		if err := r.state.apply(res.Record.Key, res.Record.Value, res.Record.Offset); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		r.metrics.storeErrors.Inc()
		r.log.Error("write registry topic", "topic", r.cfg.Topic, "error", err)
		return fmt.Errorf("write registry topic %s: %w", r.cfg.Topic, err)
	}
	return nil
}
