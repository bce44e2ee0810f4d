package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/transform/internal/duck"
	"github.com/riacho/riacho/services/transform/internal/project"
)

// runner is one model's consume-transform-produce loop.
type runner struct {
	e     *Engine
	m     *project.Model
	in    project.Relation
	group string
	txnID string
	log   *slog.Logger

	// Owned by the loop goroutine.
	duck    *duck.Engine
	schemas map[uint32]*prepared
	dd      *dedupe
	buf     []byte

	mu       sync.Mutex
	paused   bool
	resumeCh chan struct{} // closed on resume
	held     chan struct{} // non-nil while a replay holds the loop; closed on release
	cancel   context.CancelFunc
	client   *kgo.Client
	stopped  chan struct{} // closed when the current session ends
	state    string
	lastErr  string

	in64, out64, dup64, dead64, batches, txnAborts atomic.Int64
	lastBatch                                      atomic.Int64 // Unix ms
	duckNanos, batchNanos                          atomic.Int64
}

func newRunner(e *Engine, m *project.Model) *runner {
	return &runner{
		e: e, m: m, in: m.Inputs[0],
		group: e.cfg.GroupPrefix + "." + m.Name,
		txnID: e.cfg.GroupPrefix + "." + m.Name + "." + e.cfg.InstanceID,
		log:   e.deps.Logger.With("model", m.Name),
		state: "starting",
	}
}

// run keeps the model's loop going until ctx ends: a failed session is
// logged and started again after the backoff; other models are unaffected.
func (r *runner) run(ctx context.Context) {
	defer func() {
		if r.duck != nil {
			_ = r.duck.Close()
		}
	}()
	for ctx.Err() == nil {
		if err := r.waitHeld(ctx); err != nil {
			return
		}
		sctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		r.mu.Lock()
		r.cancel, r.stopped = cancel, stopped
		r.mu.Unlock()
		err := r.session(sctx)
		cancel()
		close(stopped)
		r.e.metrics.running.WithLabelValues(r.m.Name).Set(0)
		if ctx.Err() != nil || (err == nil || errors.Is(err, context.Canceled)) && r.isHeld() {
			continue
		}
		if err == nil {
			err = errors.New("session ended without an error")
		}
		r.setState("failed", err)
		r.log.Error("model loop failed; starting again after the backoff", "error", err, "backoff", r.e.cfg.RetryBackoff)
		if fn := r.e.deps.OnFailure; fn != nil {
			fn(r.m.Name, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.e.cfg.RetryBackoff):
		}
	}
}

// session is one life of the loop: prepare, recover the de-duplication
// state, join the group and process batches until ctx ends or a batch
// fails.
func (r *runner) session(ctx context.Context) error {
	r.setState("starting", nil)
	if r.duck == nil {
		d, err := duck.Open(duck.Options{Threads: r.e.cfg.DuckDBThreads})
		if err != nil {
			return fmt.Errorf("open duckdb: %w", err)
		}
		r.duck = d
	}
	r.schemas = map[uint32]*prepared{} // the registry's compatibility rule may have changed
	if err := r.prepareLatest(ctx); err != nil {
		return err
	}
	n, err := r.recoverDedupe(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		r.log.Info("de-duplication state recovered from the output topic", "records", n, "keys", r.dd.size())
	}
	opts, err := r.e.deps.Kafka.Opts()
	if err != nil {
		return err
	}
	sess, err := kgo.NewGroupTransactSession(append(opts,
		kgo.ConsumerGroup(r.group),
		kgo.InstanceID(r.txnID),
		kgo.SessionTimeout(r.e.cfg.SessionTimeout),
		kgo.HeartbeatInterval(min(3*time.Second, r.e.cfg.SessionTimeout/3)),
		kgo.RebalanceTimeout(r.e.cfg.RebalanceTimeout),
		kgo.ConsumeTopics(r.in.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.TransactionalID(r.txnID),
		kgo.TransactionTimeout(r.e.cfg.TransactionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ProducerBatchMaxBytes(16<<20),
		kgo.MaxBufferedRecords(1<<20),
	)...)
	if err != nil {
		return fmt.Errorf("kafka transaction session: %w", err)
	}
	defer sess.Close()
	r.mu.Lock()
	r.client = sess.Client()
	paused := r.paused
	r.mu.Unlock()
	if paused {
		sess.Client().PauseFetchTopics(r.in.Topic)
	}
	defer func() {
		r.mu.Lock()
		r.client = nil
		r.mu.Unlock()
	}()
	r.setState("running", nil)
	r.e.metrics.running.WithLabelValues(r.m.Name).Set(1)
	r.log.Info("model running", "input", r.in.Topic, "output", r.m.OutputTopic, "group", r.group)
	for {
		if err := r.waitResumed(ctx); err != nil {
			return nil
		}
		recs, err := r.poll(ctx, sess)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			continue
		}
		if err := r.process(ctx, sess, recs); err != nil {
			return err
		}
	}
}

// prepareLatest prepares the input subject's newest schema at start, so an
// incompatible model change is refused before any record is read.
func (r *runner) prepareLatest(ctx context.Context) error {
	s, err := r.e.deps.Registry.Latest(ctx, r.in.Topic+"-value")
	if err != nil {
		return nil //nolint:nilerr // no schema yet: prepared on the first record
	}
	_, err = r.prepare(ctx, uint32(s.ID)) //nolint:gosec // registry ids are positive int32
	return err
}

// poll returns up to max_records records: it waits for the first, then
// lingers up to the model's linger for more.
func (r *runner) poll(ctx context.Context, sess *kgo.GroupTransactSession) ([]*kgo.Record, error) {
	limit := r.m.Config.MaxRecords
	fs := sess.PollRecords(ctx, limit)
	if err := fetchErr(fs); err != nil {
		return nil, err
	}
	recs := fs.Records()
	if len(recs) == 0 {
		return nil, nil
	}
	deadline := time.Now().Add(r.m.Config.Linger)
	for len(recs) < limit && time.Now().Before(deadline) {
		pctx, cancel := context.WithDeadline(ctx, deadline)
		fs = sess.PollRecords(pctx, limit-len(recs))
		cancel()
		recs = append(recs, fs.Records()...)
		if ctx.Err() != nil {
			break // shutting down: the polled records still go through the batch
		}
		if err := fetchErr(fs); err != nil {
			return nil, err
		}
	}
	return recs, nil //nolint:nilerr // on shutdown the polled records still go through the batch
}

// fetchErr is the first fetch error that is not the end of a poll.
func fetchErr(fs kgo.Fetches) error {
	var err error
	fs.EachError(func(t string, p int32, e error) {
		if errors.Is(e, context.Canceled) || errors.Is(e, context.DeadlineExceeded) {
			return
		}
		err = errors.Join(err, fmt.Errorf("fetch %s/%d: %w", t, p, e))
	})
	return err
}

// process transforms one batch and commits it, with the input offsets, in
// one transaction.
func (r *runner) process(ctx context.Context, sess *kgo.GroupTransactSession, recs []*kgo.Record) error {
	start := time.Now()
	if err := sess.Begin(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	b, err := r.transform(ctx, recs)
	if err != nil {
		r.dd.abort()
		if _, aerr := sess.End(context.WithoutCancel(ctx), kgo.TryAbort); aerr != nil {
			err = errors.Join(err, fmt.Errorf("abort transaction: %w", aerr))
		}
		return err
	}
	var (
		pmu  sync.Mutex
		perr error
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			pmu.Lock()
			perr = errors.Join(perr, err)
			pmu.Unlock()
		}
	}
	for _, rec := range b.out {
		sess.Produce(ctx, rec, promise)
	}
	for _, rec := range b.dead {
		sess.Produce(ctx, rec, promise)
	}
	if err := sess.Client().Flush(ctx); err != nil {
		perr = errors.Join(perr, err)
	}
	pmu.Lock()
	try, produceErr := kgo.TryCommit, perr
	pmu.Unlock()
	if produceErr != nil {
		try = kgo.TryAbort
	}
	committed, err := sess.End(ctx, try)
	if err != nil || produceErr != nil || !committed {
		r.dd.abort()
		r.e.metrics.txns.WithLabelValues(r.m.Name, "aborted").Inc()
		r.txnAborts.Add(1)
		switch {
		case produceErr != nil:
			return fmt.Errorf("produce batch: %w", errors.Join(produceErr, err))
		case err != nil:
			return fmt.Errorf("end transaction: %w", err)
		}
		r.log.Info("batch aborted by a group rebalance; its records are read again", "records", len(recs))
		return nil
	}
	r.dd.commit(time.Now())
	r.e.metrics.txns.WithLabelValues(r.m.Name, "committed").Inc()
	m := r.m.Name
	r.e.metrics.in.WithLabelValues(m).Add(float64(b.in))
	r.e.metrics.out.WithLabelValues(m).Add(float64(len(b.out)))
	r.e.metrics.duplicates.WithLabelValues(m).Add(float64(b.duplicates))
	r.e.metrics.tombstones.WithLabelValues(m).Add(float64(b.tombstones))
	r.e.metrics.duck.WithLabelValues(m).Observe(b.duck.Seconds())
	r.e.metrics.batch.WithLabelValues(m).Observe(time.Since(start).Seconds())
	r.in64.Add(int64(b.in))
	r.out64.Add(int64(len(b.out)))
	r.dup64.Add(int64(b.duplicates))
	r.dead64.Add(int64(len(b.dead)))
	r.batches.Add(1)
	r.duckNanos.Add(int64(b.duck))
	r.batchNanos.Add(int64(time.Since(start)))
	r.lastBatch.Store(time.Now().UnixMilli())
	if fn := r.e.deps.OnBatch; fn != nil {
		fn(m, int64(b.in), int64(len(b.out)))
	}
	return nil
}

func (r *runner) setState(state string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = state
	if err != nil {
		r.lastErr = err.Error()
	} else if state == "running" {
		r.lastErr = ""
	}
}

// waitResumed blocks while the model is paused.
func (r *runner) waitResumed(ctx context.Context) error {
	for {
		r.mu.Lock()
		paused, ch := r.paused, r.resumeCh
		r.mu.Unlock()
		if !paused {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (r *runner) isHeld() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held != nil
}

// waitHeld blocks while a replay holds the loop.
func (r *runner) waitHeld(ctx context.Context) error {
	for {
		r.mu.Lock()
		ch := r.held
		r.mu.Unlock()
		if ch == nil {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
