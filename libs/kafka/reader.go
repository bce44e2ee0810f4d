package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrClosed is returned by a Reader used after Close.
var ErrClosed = errors.New("kafka: reader closed")

// StartOffset says where a group with no committed offset starts reading.
type StartOffset int

const (
	// StartEarliest reads from the oldest retained record (the default).
	StartEarliest StartOffset = iota
	// StartLatest reads only records produced after the group joined.
	StartLatest
)

// ReaderOptions configures a Reader.
type ReaderOptions struct {
	Telemetry
	// Group is the consumer group id; required.
	Group string
	// Topics are the topics to read; with TopicRegex each entry is a regular
	// expression (e.g. `^raw\..*`) matched against every topic, and topics
	// created later are picked up.
	Topics []string
	// TopicRegex makes Topics regular expressions.
	TopicRegex bool
	// Start is where partitions without a committed offset begin.
	Start StartOffset
	// ReadCommitted skips records of aborted transactions and holds back
	// those of open ones (isolation.level=read_committed).
	ReadCommitted bool
	// MaxPollRecords caps one Poll's batch; 10000 when 0.
	MaxPollRecords int
	// SessionTimeout is how long the group waits for a silent member before
	// evicting it; franz-go's 45s when 0.
	SessionTimeout time.Duration
	// RebalanceTimeout is how long a member may take to give partitions back
	// during a rebalance, i.e. how long a batch may be held between two
	// Polls while a rebalance waits; franz-go's 60s when 0.
	RebalanceTimeout time.Duration
	// CloseTimeout bounds the commit of marked offsets in Close; 10s when 0.
	CloseTimeout time.Duration
}

// Validate reports every problem with o.
func (o ReaderOptions) Validate() error {
	var errs []error
	if o.Group == "" {
		errs = append(errs, errors.New("reader: group is required"))
	}
	if len(o.Topics) == 0 {
		errs = append(errs, errors.New("reader: at least one topic is required"))
	}
	for _, t := range o.Topics {
		if t == "" {
			errs = append(errs, errors.New("reader: empty topic"))
			continue
		}
		if o.TopicRegex {
			if _, err := regexp.Compile(t); err != nil {
				errs = append(errs, fmt.Errorf("reader: topic pattern %q: %w", t, err))
			}
		}
	}
	if o.Start != StartEarliest && o.Start != StartLatest {
		errs = append(errs, fmt.Errorf("reader: unknown start offset %d", o.Start))
	}
	return errors.Join(errs...)
}

// Reader consumes topics as a member of a consumer group and commits only
// what its caller says was processed. Offsets are never committed
// automatically. The rules:
//
//   - The records a Poll returns stay owned by this reader until the next
//     Poll or Close: rebalances are held back while the caller holds a batch
//     (franz-go's BlockRebalanceOnPoll). Finish with a batch, and Poll again,
//     within ReaderOptions.RebalanceTimeout, or the group evicts the member.
//   - Commit(ctx, recs...) synchronously commits, per partition, the offset
//     after the highest record given, together with anything marked. Call it
//     only for records whose effects are durable, and before the next Poll.
//   - Mark(recs...) records progress without a round trip. Marked offsets
//     are committed by the next Commit, when their partitions are revoked in
//     a rebalance (before another member may read them), and by Close.
//   - When partitions are lost (the member was evicted), marks for them are
//     dropped: the group has moved on and a commit would be refused.
//   - Anything neither committed nor marked is delivered again, to this or
//     another member, after a rebalance or restart: at-least-once.
//
// Poll, Commit, Mark and Lag may be called from different goroutines, but
// one goroutine should own the poll-process-commit loop.
type Reader struct {
	cl           *kgo.Client
	group        string
	maxPoll      int
	closeTimeout time.Duration
	log          *slog.Logger

	mu     sync.Mutex
	marks  map[string]map[int32]kgo.EpochOffset
	closed bool
}

// NewReader joins opts.Group on cfg's cluster. extra options are applied
// after riacho's own; they must not turn auto-commit back on.
func NewReader(cfg Config, opts ReaderOptions, extra ...kgo.Opt) (*Reader, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &Reader{
		group:        opts.Group,
		maxPoll:      opts.MaxPollRecords,
		closeTimeout: opts.CloseTimeout,
		marks:        make(map[string]map[int32]kgo.EpochOffset),
		log:          opts.Logger,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.maxPoll <= 0 {
		r.maxPoll = 10000
	}
	if r.closeTimeout <= 0 {
		r.closeTimeout = 10 * time.Second
	}
	start := kgo.NewOffset().AtStart()
	if opts.Start == StartLatest {
		start = kgo.NewOffset().AtEnd()
	}
	kopts, check := opts.kgoOpts(opts.Group, cfg.ClientID, opts.Group)
	kopts = append(kopts,
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(opts.Topics...),
		kgo.ConsumeResetOffset(start),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
	)
	if opts.TopicRegex {
		kopts = append(kopts, kgo.ConsumeRegex())
	}
	if opts.ReadCommitted {
		kopts = append(kopts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	if opts.SessionTimeout > 0 {
		kopts = append(kopts, kgo.SessionTimeout(opts.SessionTimeout))
	}
	if opts.RebalanceTimeout > 0 {
		kopts = append(kopts, kgo.RebalanceTimeout(opts.RebalanceTimeout))
	}
	kopts = append(kopts, extra...)
	kopts = append(kopts, kgo.DisableAutoCommit())
	cl, err := NewClient(cfg, kopts...)
	if err != nil {
		return nil, err
	}
	if err := check(); err != nil {
		cl.Close()
		return nil, err
	}
	r.cl = cl
	return r, nil
}

// Client returns the underlying franz-go client.
func (r *Reader) Client() *kgo.Client { return r.cl }

// Group returns the consumer group id.
func (r *Reader) Group() string { return r.group }

// Poll releases the previous batch (allowing a pending rebalance, which
// commits marked offsets of revoked partitions) and waits for the next
// records, at most ReaderOptions.MaxPollRecords of them. It returns the
// records it has, without error, even if some partitions reported fetch
// errors (franz-go keeps retrying those); with no records it returns the
// fetch errors joined, ctx.Err() once ctx is done, or ErrClosed.
func (r *Reader) Poll(ctx context.Context) ([]*kgo.Record, error) {
	if r.isClosed() {
		return nil, ErrClosed
	}
	r.cl.AllowRebalance()
	fs := r.cl.PollRecords(ctx, r.maxPoll)
	if fs.IsClientClosed() {
		return nil, ErrClosed
	}
	recs := fs.Records()
	if len(recs) > 0 {
		return recs, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var errs []error
	fs.EachError(func(t string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		errs = append(errs, fmt.Errorf("fetch %s/%d: %w", t, p, err))
	})
	return nil, errors.Join(errs...)
}

// Mark records recs as processed; see the Reader rules for when marked
// offsets are committed. Marks never move a partition's offset backwards.
func (r *Reader) Mark(recs ...*kgo.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		addOffset(r.marks, rec)
	}
}

// addOffset raises m's offset for rec's partition to just after rec.
func addOffset(m map[string]map[int32]kgo.EpochOffset, rec *kgo.Record) {
	ps := m[rec.Topic]
	if ps == nil {
		ps = make(map[int32]kgo.EpochOffset)
		m[rec.Topic] = ps
	}
	next := kgo.EpochOffset{Epoch: rec.LeaderEpoch, Offset: rec.Offset + 1}
	if cur, ok := ps[rec.Partition]; !ok || cur.Less(next) {
		ps[rec.Partition] = next
	}
}

// Commit synchronously commits the offsets after recs together with every
// marked offset. With no records and no marks it does nothing.
func (r *Reader) Commit(ctx context.Context, recs ...*kgo.Record) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	offsets := make(map[string]map[int32]kgo.EpochOffset, len(r.marks))
	for t, ps := range r.marks {
		cp := make(map[int32]kgo.EpochOffset, len(ps))
		for p, o := range ps {
			cp[p] = o
		}
		offsets[t] = cp
	}
	r.mu.Unlock()
	for _, rec := range recs {
		addOffset(offsets, rec)
	}
	if len(offsets) == 0 {
		return nil
	}
	if err := r.commit(ctx, offsets); err != nil {
		return err
	}
	r.clearMarks(offsets)
	return nil
}

// commit sends offsets and returns the first error, naming its partition.
func (r *Reader) commit(ctx context.Context, offsets map[string]map[int32]kgo.EpochOffset) error {
	var rerr error
	r.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			rerr = err
			return
		}
		var errs []error
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err))
				}
			}
		}
		rerr = errors.Join(errs...)
	})
	if rerr != nil {
		return fmt.Errorf("commit group %s: %w", r.group, rerr)
	}
	return nil
}

// clearMarks drops marks that committed covers.
func (r *Reader) clearMarks(committed map[string]map[int32]kgo.EpochOffset) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for t, ps := range committed {
		for p, o := range ps {
			if cur, ok := r.marks[t][p]; ok && !o.Less(cur) {
				delete(r.marks[t], p)
			}
		}
		if len(r.marks[t]) == 0 {
			delete(r.marks, t)
		}
	}
}

// takeMarks removes and returns the marks of the given partitions (all
// when parts is nil).
func (r *Reader) takeMarks(parts map[string][]int32) map[string]map[int32]kgo.EpochOffset {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]map[int32]kgo.EpochOffset)
	if parts == nil {
		out, r.marks = r.marks, make(map[string]map[int32]kgo.EpochOffset)
		return out
	}
	for t, ps := range parts {
		for _, p := range ps {
			o, ok := r.marks[t][p]
			if !ok {
				continue
			}
			if out[t] == nil {
				out[t] = make(map[int32]kgo.EpochOffset)
			}
			out[t][p] = o
			delete(r.marks[t], p)
		}
		if len(r.marks[t]) == 0 {
			delete(r.marks, t)
		}
	}
	return out
}

// onRevoked commits what was marked for the partitions leaving this member.
func (r *Reader) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	offsets := r.takeMarks(revoked)
	if len(offsets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.closeTimeout)
	defer cancel()
	if err := r.commit(ctx, offsets); err != nil {
		r.log.Error("kafka commit on revoke failed; records will be redelivered", "group", r.group, "err", err)
	}
}

// onLost drops marks: the partitions already belong to someone else.
func (r *Reader) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	r.takeMarks(lost)
}

func (r *Reader) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// Close commits marked offsets (bounded by ReaderOptions.CloseTimeout),
// leaves the group and closes the client. It returns the commit error, if
// any. Close is idempotent.
func (r *Reader) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()

	var err error
	if offsets := r.takeMarks(nil); len(offsets) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), r.closeTimeout)
		err = r.commit(ctx, offsets)
		cancel()
	}
	r.cl.CloseAllowingRebalance()
	return err
}
