package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/quality/internal/expect"
)

// runner is one model's gate loop.
type runner struct {
	g     *Gate
	t     *target
	group string
	txnID string
	log   *slog.Logger
	serde *avro.Serde

	// Owned by the loop goroutine.
	win       *window
	closedEnd time.Time // end of the newest window published
	subjects  map[uint32]bool

	mu      sync.Mutex
	state   string
	lastErr string
	latest  map[string]expect.SuiteResult // newest window result per suite

	in, curated, quarantined, results atomic.Int64
}

func newRunner(g *Gate, t *target) *runner {
	return &runner{
		g: g, t: t,
		group: g.cfg.GroupPrefix + "." + t.name,
		txnID: g.cfg.GroupPrefix + "." + t.name + "." + g.cfg.InstanceID,
		log:   g.deps.Logger.With("model", t.name),
		serde: avro.NewSerde(g.deps.Registry),
		state: "starting", latest: map[string]expect.SuiteResult{},
	}
}

func (r *runner) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := r.session(ctx)
		if ctx.Err() != nil {
			return
		}
		r.setState("failed", err)
		r.log.Error("quality gate loop failed; starting again after the backoff", "error", err)
		if r.g.deps.OnError != nil {
			r.g.deps.OnError(r.t.name, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.g.cfg.RetryBackoff):
		}
	}
}

func (r *runner) session(ctx context.Context) error {
	r.setState("starting", nil)
	r.subjects = map[uint32]bool{}
	if err := r.recoverWindow(ctx); err != nil {
		return err
	}
	opts, err := r.g.deps.Kafka.Opts()
	if err != nil {
		return err
	}
	cfg := r.g.cfg
	sess, err := kgo.NewGroupTransactSession(append(opts,
		kgo.ConsumerGroup(r.group),
		kgo.InstanceID(r.txnID),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.HeartbeatInterval(min(3*time.Second, cfg.SessionTimeout/3)),
		kgo.RebalanceTimeout(cfg.RebalanceTimeout),
		kgo.ConsumeTopics(stagingTopic(r.t.name)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.TransactionalID(r.txnID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)...)
	if err != nil {
		return fmt.Errorf("kafka transaction session: %w", err)
	}
	defer sess.Close()
	r.setState("running", nil)
	r.log.Info("quality gate running", "input", stagingTopic(r.t.name), "suites", len(r.t.suites))
	for {
		pctx, cancel := context.WithTimeout(ctx, cfg.Linger)
		fs := sess.PollRecords(pctx, cfg.MaxRecords)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err := fetchErr(fs); err != nil {
			return err
		}
		recs := fs.Records()
		closing := r.win != nil && !r.g.now().Before(r.win.end().Add(cfg.Linger))
		if len(recs) == 0 && !closing {
			continue
		}
		if err := r.process(ctx, sess, recs); err != nil {
			return err
		}
	}
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

// process routes one batch, closes the windows it (or the clock) ends, and
// commits everything with the input offsets in one transaction.
func (r *runner) process(ctx context.Context, sess *kgo.GroupTransactSession, recs []*kgo.Record) error {
	if err := sess.Begin(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	win, closedEnd := r.win, r.closedEnd
	if win != nil {
		win = win.clone()
	}
	var out []*kgo.Record
	var closed []windowResult
	for _, rec := range recs {
		if err := r.ensureSubjects(ctx, rec); err != nil {
			_, _ = sess.End(context.WithoutCancel(ctx), kgo.TryAbort)
			return err
		}
	}
	routed, rows := r.routeAll(ctx, recs)
	for i, rec := range recs {
		out = append(out, routed[i])
		row := rows[i]
		if row == nil {
			continue
		}
		ts := rec.Timestamp.UTC()
		if win != nil && !ts.Before(win.end()) {
			closed = append(closed, r.close(win))
			closedEnd = win.end()
			win = nil
		}
		if win == nil {
			win = newWindow(ts, closedEnd, r.g.cfg.Window)
		}
		win.add(row)
	}
	if win != nil && !r.g.now().Before(win.end().Add(r.g.cfg.Linger)) {
		closed = append(closed, r.close(win))
		closedEnd = win.end()
		win = nil
	}
	for _, c := range closed {
		out = append(out, c.records...)
	}
	var (
		pmu  sync.Mutex
		perr error
	)
	for _, rec := range out {
		sess.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				pmu.Lock()
				perr = errors.Join(perr, err)
				pmu.Unlock()
			}
		})
	}
	if err := sess.Client().Flush(ctx); err != nil {
		perr = errors.Join(perr, err)
	}
	try := kgo.TryCommit
	if perr != nil {
		try = kgo.TryAbort
	}
	committed, err := sess.End(ctx, try)
	switch {
	case perr != nil:
		return fmt.Errorf("produce batch: %w", errors.Join(perr, err))
	case err != nil:
		return fmt.Errorf("end transaction: %w", err)
	case !committed:
		r.log.Info("batch aborted by a group rebalance; its records are read again", "records", len(recs))
		return nil
	}
	r.win, r.closedEnd = win, closedEnd
	r.count(out, closed)
	return nil
}

// count updates the statistics after a commit.
func (r *runner) count(out []*kgo.Record, closed []windowResult) {
	m := r.g.metrics
	var curated, quarantined int64
	for _, rec := range out {
		switch rec.Topic {
		case curatedTopic(r.t.name):
			curated++
			r.curated.Add(1)
			m.curated.WithLabelValues(r.t.name).Inc()
		case quarantineTopic(r.t.name):
			quarantined++
			r.quarantined.Add(1)
			m.quarantined.WithLabelValues(r.t.name).Inc()
		}
	}
	if fn := r.g.deps.OnCommit; fn != nil {
		fn(r.t.name, curated, quarantined, len(closed))
	}
	r.in.Add(int64(len(out)))
	r.mu.Lock()
	for _, c := range closed {
		for _, sr := range c.suites {
			r.latest[sr.name] = sr.result
			r.results.Add(1)
			m.observe(r.t.name, sr.name, sr.result)
		}
	}
	r.mu.Unlock()
	if fn := r.g.deps.OnResult; fn != nil {
		for _, c := range closed {
			for _, sr := range c.suites {
				fn(r.t.name, sr.name, sr.result)
			}
		}
	}
}

// ensureSubjects registers a record's writer schema under the curated and
// quarantine subjects the first time it is seen, so subject-based readers
// find it; the id (and the bytes) stay the same.
func (r *runner) ensureSubjects(ctx context.Context, rec *kgo.Record) error {
	if rec.Value == nil {
		return nil
	}
	id, _, err := avro.SplitWire(rec.Value)
	if err != nil || r.subjects[id] {
		return nil //nolint:nilerr // an undecodable record is quarantined by route
	}
	schema, err := r.g.deps.Registry.SchemaByID(ctx, int(id))
	if errors.Is(err, avro.ErrSchemaNotFound) {
		return nil // quarantined by route
	}
	if err != nil {
		return fmt.Errorf("schema %d: %w", id, err)
	}
	for _, subject := range []string{curatedTopic(r.t.name) + "-value", quarantineTopic(r.t.name) + "-value"} {
		if _, err := r.g.deps.Registry.Register(ctx, subject, schema); err != nil {
			return fmt.Errorf("register schema %d under %s: %w", id, subject, err)
		}
	}
	r.subjects[id] = true
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

// routeAll routes recs, in parallel on large batches (decoding and checks
// are independent per record); the results keep the input order.
func (r *runner) routeAll(ctx context.Context, recs []*kgo.Record) ([]*kgo.Record, []map[string]any) {
	routed := make([]*kgo.Record, len(recs))
	rows := make([]map[string]any, len(recs))
	workers := runtime.GOMAXPROCS(0)
	if len(recs) < 512 || workers < 2 {
		for i, rec := range recs {
			routed[i], rows[i], _ = r.route(ctx, rec)
		}
		return routed, rows
	}
	var wg sync.WaitGroup
	chunk := (len(recs) + workers - 1) / workers
	for lo := 0; lo < len(recs); lo += chunk {
		hi := min(lo+chunk, len(recs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				routed[i], rows[i], _ = r.route(ctx, recs[i])
			}
		}()
	}
	wg.Wait()
	return routed, rows
}
