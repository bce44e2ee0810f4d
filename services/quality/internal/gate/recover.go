package gate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
)

// resultsTail is how many offsets of each results partition are read back
// to find a model's last closed window.
const resultsTail = 10000

// recoverWindow rebuilds the open window after a restart: the input records
// already committed (so already routed) whose window has no result yet.
func (r *runner) recoverWindow(ctx context.Context) error {
	r.win = nil
	adm := kadm.NewClient(r.g.admin)
	closedEnd, err := r.lastClosedWindow(ctx, adm)
	if err != nil {
		return err
	}
	r.closedEnd = closedEnd
	topic := stagingTopic(r.t.name)
	committed, err := adm.FetchOffsets(ctx, r.group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil // a new group: nothing was routed yet
	}
	if err != nil {
		return fmt.Errorf("recover window: committed offsets of %s: %w", r.group, err)
	}
	until := map[int32]int64{}
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At > 0 {
			until[o.Partition] = o.At
		}
	})
	if len(until) == 0 {
		return nil
	}
	var starts kadm.ListedOffsets
	if closedEnd.IsZero() {
		starts, err = adm.ListStartOffsets(ctx, topic)
	} else {
		starts, err = adm.ListOffsetsAfterMilli(ctx, closedEnd.UnixMilli(), topic)
	}
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("recover window: offsets of %s after %s: %w", topic, closedEnd, err)
	}
	from := map[int32]kgo.Offset{}
	for p, end := range until {
		s, ok := starts.Lookup(topic, p)
		if !ok || s.Offset < 0 || s.Offset >= end {
			delete(until, p)
			continue
		}
		from[p] = kgo.NewOffset().At(s.Offset)
	}
	if len(from) == 0 {
		return nil
	}
	cl, err := kafka.NewClient(r.g.deps.Kafka, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	n := 0
	for len(until) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fetchErr(fs); err != nil {
			return fmt.Errorf("recover window: %w", err)
		}
		for _, rec := range fs.Records() {
			end, ok := until[rec.Partition]
			if !ok || rec.Offset >= end {
				continue
			}
			if rec.Offset+1 >= end {
				delete(until, rec.Partition)
			}
			if rec.Attrs.IsControl() {
				continue
			}
			_, row, _ := r.route(ctx, rec)
			if row == nil {
				continue
			}
			ts := rec.Timestamp.UTC()
			if r.win != nil && !ts.Before(r.win.end()) {
				r.closedEnd = r.win.end() // closed before the restart: its result is out
				r.win = nil
			}
			if r.win == nil {
				r.win = newWindow(ts, r.closedEnd, r.g.cfg.Window)
			}
			r.win.add(row)
			n++
		}
	}
	if r.win != nil {
		r.log.Info("open window rebuilt from the input", "window_start", r.win.start, "rows", len(r.win.rows), "read", n)
	}
	return nil
}

// lastClosedWindow is the end of the model's newest window result on the
// results topic (the zero time when there is none in its tail).
func (r *runner) lastClosedWindow(ctx context.Context, adm *kadm.Client) (time.Time, error) {
	topic := r.g.cfg.ResultsTopic
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		if ends, err = adm.ListCommittedOffsets(ctx, topic); err == nil {
			err = ends.Error()
		}
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("recover window: offsets of %s: %w", topic, err)
	}
	from := map[int32]kgo.Offset{}
	until := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(topic, o.Partition)
		if o.Offset > s.Offset {
			from[o.Partition] = kgo.NewOffset().At(max(s.Offset, o.Offset-resultsTail))
			until[o.Partition] = o.Offset
		}
	})
	var last time.Time
	if len(from) == 0 {
		return last, nil
	}
	cl, err := kafka.NewClient(r.g.deps.Kafka, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return last, err
	}
	defer cl.Close()
	for len(until) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return last, err
		}
		if err := fetchErr(fs); err != nil {
			return last, fmt.Errorf("recover window: %w", err)
		}
		for _, rec := range fs.Records() {
			if end, ok := until[rec.Partition]; ok && rec.Offset+1 >= end {
				delete(until, rec.Partition)
			}
			if !rec.Attrs.IsControl() && string(rec.Key) == r.t.name && rec.Timestamp.After(last) {
				last = rec.Timestamp.UTC()
			}
		}
	}
	return last, nil
}
