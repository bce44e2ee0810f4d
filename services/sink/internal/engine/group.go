package engine

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// commitGroup records that p's table now holds everything before next; the
// group committer commits it to the consumer group for lag monitoring.
func (e *Engine) commitGroup(p *partition, next int64) {
	tp := topicPart{p.topic, p.part}
	e.mu.Lock()
	if e.parts[tp] == p {
		e.groupNext[tp] = next
	}
	e.mu.Unlock()
	select {
	case e.groupKick <- struct{}{}:
	default:
	}
}

// groupCommitter commits group offsets after table commits, one request at
// a time (franz-go cancels a commit that another one overtakes).
func (e *Engine) groupCommitter(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.groupKick:
		}
		e.commitGroupNow(ctx)
	}
}

func (e *Engine) commitGroupNow(ctx context.Context) {
	e.mu.Lock()
	if len(e.groupNext) == 0 {
		e.mu.Unlock()
		return
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for tp, next := range e.groupNext {
		if offsets[tp.topic] == nil {
			offsets[tp.topic] = map[int32]kgo.EpochOffset{}
		}
		offsets[tp.topic][tp.part] = kgo.EpochOffset{Epoch: -1, Offset: next}
	}
	e.groupNext = map[topicPart]int64{}
	e.mu.Unlock()
	e.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			e.log.Debug("group offset commit failed (lag monitoring only; the table holds the offsets)", "error", err)
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					e.log.Debug("group offset commit refused (lag monitoring only)", "topic", t.Topic, "partition", p.Partition, "error", err)
				}
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
