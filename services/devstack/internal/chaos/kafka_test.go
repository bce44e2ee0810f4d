package chaos

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
)

// admin returns an admin client of the stack's broker, closed with t.
func (st *stack) admin(t *testing.T) *kadm.Client {
	t.Helper()
	cl, err := kafka.NewClient(st.kc.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// endOffsets returns topic's high watermark per partition (none when the
// topic does not exist yet).
func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return map[int32]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// committedSum is the sum of group's committed offsets (0 for none): it
// grows while the group's member makes progress.
func committedSum(ctx context.Context, adm *kadm.Client, group string) int64 {
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil || offs.Error() != nil {
		return 0
	}
	var n int64
	offs.Each(func(o kadm.OffsetResponse) { n += o.At })
	return n
}

// groupBehind returns, for group, every partition whose committed offset is
// more than slack behind the high watermark (slack 1 allows the last
// transaction marker of a transactional input), as "topic/p committed c of end e".
func groupBehind(ctx context.Context, adm *kadm.Client, group string, slack int64) ([]string, error) {
	lags, err := kafka.GroupLag(ctx, adm, group)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range lags {
		if l.Committed < 0 || l.End-l.Committed > slack {
			out = append(out, fmt.Sprintf("%s/%d committed %d of end %d", l.Topic, l.Partition, l.Committed, l.End))
		}
	}
	if len(lags) == 0 {
		out = append(out, "no committed offsets")
	}
	return out, nil
}

// readKeys reads topic from the start to its last stable offset with
// isolation.level=read_committed and counts the records per key.
func (st *stack) readKeys(t *testing.T, topic string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kafka.NewClient(st.kc.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return map[string]int{}
	}
	if err != nil {
		t.Fatalf("last stable offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	out := map[string]int{}
	if len(want) == 0 {
		return out
	}
	rd, err := kafka.NewClient(st.kc.Config(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for len(want) > 0 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s (read_committed): %v; partitions not read to their end: %v", topic, ctx.Err(), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out[string(r.Key)]++
			}
		})
	}
	return out
}
