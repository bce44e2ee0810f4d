package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// ErrReplayInProgress is returned when a model is already being replayed.
var ErrReplayInProgress = errors.New("a replay of this model is in progress")

// ReplayFrom is where a replay starts: an offset (applied to every chosen
// partition, clamped to what the log still has) or a time (the first
// record at or after it).
type ReplayFrom struct {
	Offset     int64 // used when Time is zero; -1 = the log's start
	Time       time.Time
	Partitions []int32 // nil: every partition of the input topic
}

// Replay moves a model's input position back (or forward) and lets it run
// again from there into its output: the model's loop stops (its batch in
// flight commits or aborts), the group's committed offsets are set, and the
// loop starts again. Rows identical to those already emitted within the
// dedupe window are still dropped; a model whose SQL changed emits its new
// rows. It returns the offsets set per partition.
func (e *Engine) Replay(ctx context.Context, model string, from ReplayFrom) (map[int32]int64, error) {
	r, err := e.runner(model)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.held != nil {
		r.mu.Unlock()
		return nil, ErrReplayInProgress
	}
	held := make(chan struct{})
	r.held = held
	cancel, stopped := r.cancel, r.stopped
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.held = nil
		r.mu.Unlock()
		close(held)
	}()
	if cancel != nil {
		cancel()
		select {
		case <-stopped:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	adm := kadm.NewClient(e.admin)
	topic := r.in.Topic
	// A static member does not leave the group when it closes; it is
	// removed here so the group is empty and its offsets can be set.
	if _, err := adm.LeaveGroup(ctx, kadm.LeaveGroup(r.group).InstanceIDs(r.txnID).Reason("riacho replay")); err != nil {
		r.log.Warn("replay: removing the static member from the group failed", "error", err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("replay %s: list offsets of %s: %w", model, topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("replay %s: list offsets of %s: %w", model, topic, err)
	}
	var at kadm.ListedOffsets
	if !from.Time.IsZero() {
		if at, err = adm.ListOffsetsAfterMilli(ctx, from.Time.UnixMilli(), topic); err == nil {
			err = at.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("replay %s: offsets of %s at %s: %w", model, topic, from.Time.Format(time.RFC3339), err)
		}
	}
	want := map[int32]bool{}
	for _, p := range from.Partitions {
		want[p] = true
	}
	set := map[int32]int64{}
	offsets := kadm.Offsets{}
	var missing []int32
	for _, p := range from.Partitions {
		if _, ok := ends.Lookup(topic, p); !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("replay %s: %s has no partitions %v", model, topic, missing)
	}
	ends.Each(func(end kadm.ListedOffset) {
		if len(want) > 0 && !want[end.Partition] {
			return
		}
		start, _ := starts.Lookup(topic, end.Partition)
		off := from.Offset
		if !from.Time.IsZero() {
			o, _ := at.Lookup(topic, end.Partition)
			off = o.Offset
		}
		if off < 0 || off < start.Offset {
			off = start.Offset
		}
		if off > end.Offset {
			off = end.Offset
		}
		set[end.Partition] = off
		offsets.AddOffset(topic, end.Partition, off, -1)
	})
	resp, err := adm.CommitOffsets(ctx, r.group, offsets)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("replay %s: commit offsets of group %s (every replica of the model must be stopped or scaled to this one): %w", model, r.group, err)
	}
	r.log.Warn("model replay: input position moved", "topic", topic, "offsets", set)
	return set, nil
}
