package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
)

// Lag is a consumer group's position on one partition.
type Lag struct {
	Topic     string
	Partition int32
	// Committed is the group's committed offset, -1 when none.
	Committed int64
	// End is the partition's high watermark (the offset of the next record).
	End int64
	// Lag is End minus Committed (End minus the start offset when nothing was
	// committed), or -1 when it cannot be computed.
	Lag int64
	// MemberID is the member currently assigned the partition, "" when none.
	MemberID string
}

// Lag returns the reader's group lag per topic and partition, sorted by
// topic then partition.
func (r *Reader) Lag(ctx context.Context) ([]Lag, error) {
	return GroupLag(ctx, kadm.NewClient(r.cl), r.group)
}

// GroupLag returns group's lag per topic and partition through adm.
func GroupLag(ctx context.Context, adm *kadm.Client, group string) ([]Lag, error) {
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("lag of group %s: %w", group, err)
	}
	gl, ok := lags[group]
	if !ok {
		return nil, fmt.Errorf("lag of group %s: not described", group)
	}
	if err := gl.Error(); err != nil {
		return nil, fmt.Errorf("lag of group %s: %w", group, err)
	}
	var (
		out  []Lag
		errs []error
	)
	for _, l := range gl.Lag.Sorted() {
		if l.Err != nil {
			errs = append(errs, fmt.Errorf("lag of group %s on %s/%d: %w", group, l.Topic, l.Partition, l.Err))
		}
		x := Lag{
			Topic:     l.Topic,
			Partition: l.Partition,
			Committed: l.Commit.At,
			End:       l.End.Offset,
			Lag:       l.Lag,
		}
		if l.Member != nil {
			x.MemberID = l.Member.MemberID
		}
		out = append(out, x)
	}
	return out, errors.Join(errs...)
}
