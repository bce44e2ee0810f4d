package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrIdempotenceRequired is returned by NewProducer when an extra option
// turned idempotent writes off.
var ErrIdempotenceRequired = errors.New("kafka: producer requires idempotent writes (acks=all)")

// ProducerOptions tunes a Producer. The zero value is usable.
type ProducerOptions struct {
	Telemetry
	// Linger is how long a partition waits for more records before a
	// request is sent: 0 keeps franz-go's default (10ms), a negative value
	// sends at once.
	Linger time.Duration
	// MaxBufferedRecords bounds records waiting for an answer; 0 keeps
	// franz-go's default (10000). A full buffer makes Produce wait, bounded
	// by its context.
	MaxBufferedRecords int
	// CloseTimeout bounds the flush Close does before closing; 10s when 0.
	CloseTimeout time.Duration
}

// Producer writes records with acks=all and idempotence, which are always
// on. It is safe for concurrent use.
type Producer struct {
	cl           *kgo.Client
	closeTimeout time.Duration
	closeOnce    sync.Once
}

// NewProducer connects a Producer. extra options are applied after riacho's
// own and may tune batching or compression, but not acks or idempotence.
func NewProducer(cfg Config, opts ProducerOptions, extra ...kgo.Opt) (*Producer, error) {
	kopts, check := opts.kgoOpts("producer", cfg.ClientID, "")
	switch {
	case opts.Linger > 0:
		kopts = append(kopts, kgo.ProducerLinger(opts.Linger))
	case opts.Linger < 0:
		kopts = append(kopts, kgo.ProducerLinger(0))
	}
	if opts.MaxBufferedRecords > 0 {
		kopts = append(kopts, kgo.MaxBufferedRecords(opts.MaxBufferedRecords))
	}
	kopts = append(kopts, extra...)
	kopts = append(kopts, kgo.RequiredAcks(kgo.AllISRAcks()))
	cl, err := NewClient(cfg, kopts...)
	if err != nil {
		return nil, err
	}
	if off, _ := cl.OptValue(kgo.DisableIdempotentWrite).(bool); off {
		cl.Close()
		return nil, ErrIdempotenceRequired
	}
	if err := check(); err != nil {
		cl.Close()
		return nil, err
	}
	ct := opts.CloseTimeout
	if ct <= 0 {
		ct = 10 * time.Second
	}
	return &Producer{cl: cl, closeTimeout: ct}, nil
}

// Client returns the underlying franz-go client.
func (p *Producer) Client() *kgo.Client { return p.cl }

// Produce sends rec asynchronously and calls fn (which may be nil) with the
// outcome. fn runs on the client's single promise goroutine: keep it short
// and never block in it. If rec.Context is nil it is set to ctx, so that
// cancelling ctx fails rec while it is still unsent.
func (p *Producer) Produce(ctx context.Context, rec *kgo.Record, fn func(*kgo.Record, error)) {
	if rec.Context == nil {
		rec.Context = ctx
	}
	p.cl.Produce(ctx, rec, fn)
}

// maxJoinedErrors caps the distinct failures ProduceAll spells out.
const maxJoinedErrors = 8

// maxHOLRetries bounds how often ProduceAll re-sends records that were
// failed only because an abandoned record ahead of them was cancelled.
const maxHOLRetries = 3

// produceWait counts one ProduceAll round's outstanding records.
type produceWait struct {
	pending atomic.Int64
	done    chan struct{}

	// Written by the client's promise goroutine, read after done closes.
	failed int
	errs   []error
	retry  []*kgo.Record
}

func (w *produceWait) promise(r *kgo.Record, err error) {
	switch {
	case err == nil:
	case isCtxErr(err) && r.Context != nil && r.Context.Err() == nil:
		// This record's own context is alive: franz-go failed it because
		// the first record of its partition's buffer had been cancelled
		// (an earlier, abandoned call). Such records were never sent, so
		// producing them again cannot duplicate them.
		w.retry = append(w.retry, r)
	default:
		w.failed++
		if len(w.errs) < maxJoinedErrors {
			w.errs = append(w.errs, fmt.Errorf("topic %s: %w", r.Topic, err))
		}
	}
	if w.pending.Add(-1) == 0 {
		close(w.done)
	}
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// ProduceAll produces every record in recs and returns once each was
// acknowledged by all in-sync replicas (nil) or failed (an error counting
// and naming the failures), or when ctx is done, whichever comes first.
// It starts no goroutine.
//
// On ctx's deadline it returns at once with an error wrapping ctx.Err():
// records not yet sent are cancelled (each record's Context is ctx unless
// the caller set one derived from it), but a record already in flight to a
// broker cannot be taken back safely and may still be written later. A
// caller answering "failed" on this error must therefore expect the sender
// to retry and downstream to see duplicates (riacho keys records by the
// source event id for that reason).
//
// franz-go fails every record buffered in a partition when the first one
// is cancelled. Records of this call failed that way, while ctx is still
// alive, were never sent; ProduceAll produces them again (up to 3 times),
// so a call made just after an outage is not failed by the abandoned
// records of earlier calls. Even so, give ctx a deadline rather than tying
// it to something that is cancelled for unrelated reasons.
func (p *Producer) ProduceAll(ctx context.Context, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	total := len(recs)
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("produce %d records: %w", total, err)
		}
		w := &produceWait{done: make(chan struct{})}
		w.pending.Store(int64(len(recs)))
		promise := w.promise
		for _, r := range recs {
			if r.Context == nil {
				r.Context = ctx
			}
			p.cl.Produce(ctx, r, promise)
		}
		select {
		case <-w.done:
		case <-ctx.Done():
			select {
			case <-w.done: // finished at the same moment: report the real outcome
			default:
				return fmt.Errorf("produce %d records: %d unacknowledged: %w", total, w.pending.Load(), ctx.Err())
			}
		}
		// done was closed after the last promise, so w's fields are settled.
		if w.failed == 0 && len(w.retry) == 0 {
			return nil
		}
		if w.failed > 0 || attempt == maxHOLRetries {
			errs := w.errs
			if n := len(w.retry); n > 0 {
				errs = append(errs, fmt.Errorf("%d records cancelled behind abandoned ones", n))
			}
			return fmt.Errorf("produce %d records: %d failed: %w", total, w.failed+len(w.retry), errors.Join(errs...))
		}
		recs = w.retry
	}
}

// Flush waits until every buffered record was answered or ctx is done.
func (p *Producer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// Close flushes for at most ProducerOptions.CloseTimeout, then closes the
// client; records still unanswered fail with kgo.ErrClientClosed. Close is
// idempotent.
func (p *Producer) Close() {
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), p.closeTimeout)
		defer cancel()
		_ = p.cl.Flush(ctx)
		p.cl.Close()
	})
}
