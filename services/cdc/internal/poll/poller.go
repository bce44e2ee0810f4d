package poll

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

// Emitter is the part of *emit.Emitter the poller uses.
type Emitter interface {
	Prepare(ctx context.Context, t *envelope.Table) (*emit.Stream, error)
	ProduceSync(ctx context.Context, recs []*kgo.Record) error
	DeadLetter(ctx context.Context, t *envelope.Table, reason error, payload any) error
}

// Store is the part of *state.Store the poller uses.
type Store interface {
	Get(key string, v any) (bool, error)
	Put(ctx context.Context, key string, v any) error
}

// ErrNoProgress marks a source that answered a full page without moving
// past the previous one (it ignores $skip, or more rows than a page share
// one change time and key order is unstable).
var ErrNoProgress = errors.New("poll: the source returned a full page that does not move the position")

// Options tune a Poller. Zero fields take their defaults.
type Options struct {
	// Interval is the pause between polls of an entity that has caught up (default 1m).
	Interval time.Duration
	// PageSize is the number of rows asked per page (default 100).
	PageSize int
	// Overlap is subtracted from the cursor at the start of each poll.
	Overlap time.Duration
	// RetryMin and RetryMax bound the backoff after a failed poll (defaults 1s, 1m).
	RetryMin, RetryMax time.Duration
	// MaxSeen bounds the keys kept in a cursor for de-duplication (default
	// 20000, which keeps the cursor document well under Kafka's 1 MiB
	// message limit); beyond it the oldest are forgotten, which can only
	// cause re-emission, never loss: more rows than this sharing the
	// overlap window are emitted again by each poll.
	MaxSeen int
	// Registerer receives the poller's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Logger receives the poller's messages; nil discards them.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.RetryMin <= 0 {
		o.RetryMin = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Minute
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.MaxSeen <= 0 {
		o.MaxSeen = 20_000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Options returns the poller options the config sets (Interval, PageSize,
// Overlap); the caller adds Registerer and Logger.
func (c SAPB1Config) Options() Options {
	return Options{Interval: c.Interval, PageSize: c.PageSize, Overlap: c.Overlap}
}

// Options returns the poller options the config sets.
func (c PloomesConfig) Options() Options {
	return Options{Interval: c.Interval, PageSize: c.PageSize, Overlap: c.Overlap}
}

// Options returns the poller options the config sets.
func (c SQLConfig) Options() Options {
	return Options{Interval: c.Interval, PageSize: c.PageSize, Overlap: c.Overlap}
}

// Poller captures the entities of one source by polling: one goroutine per
// entity reads pages after the stored cursor, emits them and stores the new
// cursor once Kafka acknowledged them. An entity that fails is retried with
// backoff and reported in Status; the others go on.
type Poller struct {
	source string
	f      Fetcher
	em     Emitter
	st     Store
	opts   Options
	log    *slog.Logger
	m      *metrics

	mu      sync.Mutex
	status  map[string]*EntityStatus
	wake    map[string]chan struct{}
	resnap  map[string]bool
	paused  bool
	resumed chan struct{} // closed by Resume
	running bool

	closeOnce sync.Once
}

// New returns a poller of source's entities through f, producing with em
// and keeping cursors in st. If f implements RetryNotifier it is given the
// poller's retry counter.
func New(source string, f Fetcher, em Emitter, st Store, opts Options) (*Poller, error) {
	if source == "" {
		return nil, errors.New("poll: source name required")
	}
	if f == nil || em == nil || st == nil {
		return nil, errors.New("poll: fetcher, emitter and store required")
	}
	names := f.Entities()
	if len(names) == 0 {
		return nil, fmt.Errorf("poll: source %s has no entities", source)
	}
	opts.defaults()
	p := &Poller{
		source: source, f: f, em: em, st: st, opts: opts,
		log:    opts.Logger.With("source", source),
		m:      newMetrics(opts.Registerer),
		status: map[string]*EntityStatus{}, wake: map[string]chan struct{}{}, resnap: map[string]bool{},
	}
	for _, n := range names {
		if _, dup := p.status[n]; dup {
			return nil, fmt.Errorf("poll: source %s lists entity %s twice", source, n)
		}
		p.status[n] = &EntityStatus{Entity: n, Backfilling: true}
		p.wake[n] = make(chan struct{}, 1)
	}
	if rn, ok := f.(RetryNotifier); ok {
		retries := p.m.retries
		rn.NotifyRetries(func(reason string) { retries.WithLabelValues(source, reason).Inc() })
	}
	return p, nil
}

// StateKey is the state-store key of an entity's cursor.
func StateKey(source, entity string) string { return "poll/" + source + "/" + entity }

// Run polls every entity until ctx ends, then releases the fetcher's
// resources (as Close does) and returns nil. It returns an error only when
// called twice.
func (p *Poller) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("poll: Run called twice")
	}
	p.running = true
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, name := range p.f.Entities() {
		wg.Go(func() { p.runEntity(ctx, name) })
	}
	wg.Wait()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.Close(cctx); err != nil {
		p.log.Warn("release the source's resources", "err", err)
	}
	return nil
}

// PollNow makes the entity (every entity when "") poll at once instead of
// waiting for the rest of its interval.
func (p *Poller) PollNow(entity string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, ch := range p.wake {
		if entity == "" || entity == n {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Close releases the fetcher's resources (a Service Layer session, a
// database pool); Run does it when it returns, so Close is only needed for
// a poller that never ran. Only the first call does anything.
func (p *Poller) Close(ctx context.Context) error {
	var err error
	p.closeOnce.Do(func() {
		if c, ok := p.f.(Closer); ok {
			err = c.Close(ctx)
		}
	})
	return err
}

// entity is the in-memory state of one entity's loop.
type entity struct {
	name    string
	key     string
	loaded  bool
	cur     Cursor
	seen    dedup
	stream  *emit.Stream
	dlqSeen map[uint64]bool
}

func (p *Poller) runEntity(ctx context.Context, name string) {
	e := &entity{name: name, key: StateKey(p.source, name), dlqSeen: map[uint64]bool{}}
	log := p.log.With("entity", name)
	failures := 0
	for ctx.Err() == nil {
		if !p.waitResumed(ctx) {
			return
		}
		err := p.pass(ctx, e, log)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errPaused) {
			continue
		}
		wait := p.opts.Interval
		if err != nil {
			failures++
			wait = p.backoff(failures)
			p.m.errors.WithLabelValues(p.source, name).Inc()
			p.update(name, func(s *EntityStatus) {
				s.LastError, s.LastErrorAt, s.ConsecutiveErrors = err.Error(), time.Now(), failures
			})
			log.Warn("poll failed", "err", err, "failures", failures, "retry_in", wait)
		} else {
			failures = 0
			p.update(name, func(s *EntityStatus) { s.ConsecutiveErrors = 0 })
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-p.wakeCh(name):
			t.Stop()
		case <-t.C:
		}
	}
}

func (p *Poller) wakeCh(name string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wake[name]
}

func (p *Poller) backoff(failures int) time.Duration {
	d := p.opts.RetryMin << min(failures-1, 30)
	if d <= 0 || d > p.opts.RetryMax {
		d = p.opts.RetryMax
	}
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter
}

var dlqHash = maphash.MakeSeed()

// pass polls one entity until it has caught up (a page without More).
func (p *Poller) pass(ctx context.Context, e *entity, log *slog.Logger) error {
	start := time.Now()
	p.update(e.name, func(s *EntityStatus) { s.LastPoll = start })
	if !e.loaded {
		ok, err := p.st.Get(e.key, &e.cur)
		if err != nil {
			return fmt.Errorf("read cursor %s: %w", e.key, err)
		}
		e.seen = newDedup(&e.cur)
		e.loaded = true
		if ok {
			log.Info("cursor loaded", "cursor", e.cur.TS, "backfilled", e.cur.Backfilled, "rows", e.cur.Rows)
		}
		p.reportCursor(e)
	}
	if p.takeResnap(e.name) {
		e.cur = Cursor{}
		e.seen = dedup{}
		if err := p.save(ctx, e); err != nil {
			p.mu.Lock()
			p.resnap[e.name] = true // try again with the next poll
			p.mu.Unlock()
			return err
		}
		log.Info("snapshot requested: reading the entity again from the start")
	}
	t, err := p.f.Describe(ctx, e.name)
	if err != nil {
		return fmt.Errorf("describe %s: %w", e.name, err)
	}
	t.Source = p.source
	if e.stream, err = p.em.Prepare(ctx, t); err != nil {
		return fmt.Errorf("prepare %s: %w", t.Topic(), err)
	}
	t = e.stream.Table()
	p.update(e.name, func(s *EntityStatus) { s.Topic = t.Topic() })

	pos := Position{}
	if !e.cur.TS.IsZero() {
		pos.TS = e.cur.TS.Add(-p.opts.Overlap)
	}
	var prevFirst string
	for {
		page, err := p.f.Fetch(ctx, e.name, pos, p.opts.PageSize)
		if err != nil {
			return fmt.Errorf("fetch %s from %s: %w", e.name, pos, err)
		}
		p.m.pages.WithLabelValues(p.source, e.name).Inc()
		next, err := p.emitPage(ctx, e, t, page, pos, log)
		if err != nil {
			return err
		}
		p.update(e.name, func(s *EntityStatus) { s.Pages++ })
		if !page.More {
			break
		}
		if p.Paused() {
			return errPaused
		}
		first := ""
		if len(page.Rows) > 0 {
			first = KeyString(page.Rows[0].Key) + page.Rows[0].TS.String()
		}
		if next.same(pos) || (first != "" && first == prevFirst) {
			return fmt.Errorf("entity %s at %s: %w", e.name, pos, ErrNoProgress)
		}
		prevFirst, pos = first, next
	}
	if !e.cur.Backfilled {
		e.cur.Backfilled = true
		if err := p.save(ctx, e); err != nil {
			return err
		}
		log.Info("backfill done: changed rows are emitted as updates from now on", "rows", e.cur.Rows)
	}
	now := time.Now()
	p.m.lastSuccess.WithLabelValues(p.source, e.name).Set(float64(now.Unix()))
	p.update(e.name, func(s *EntityStatus) { s.LastSuccess, s.LastError = now, "" })
	return nil
}

// emitPage emits the new rows of page, waits for Kafka, then stores the
// cursor. It returns the read position after the page.
func (p *Poller) emitPage(ctx context.Context, e *entity, t *envelope.Table, page Page, pos Position, log *slog.Logger) (Position, error) {
	floor := time.Time{}
	if !e.cur.TS.IsZero() {
		floor = e.cur.TS.Add(-p.opts.Overlap)
	}
	op, snapshot := envelope.OpUpdate, "false"
	if !e.cur.Backfilled {
		op, snapshot = envelope.OpRead, "true"
	}
	type emitted struct {
		key string
		ts  time.Time
	}
	var (
		recs  []*kgo.Record
		done  []emitted
		dups  int
		now   = time.Now().UnixMilli()
		moved = pos
	)
	for i := range page.Rows {
		r := &page.Rows[i]
		if r.Err != nil {
			moved.Skip++
			if err := p.deadLetter(ctx, e, t, r.Err, r.Raw); err != nil {
				return pos, err
			}
			continue
		}
		moved.advance(r.TS, r.Key)
		key := KeyString(r.Key)
		if e.seen.duplicate(key, r.TS, floor) {
			dups++
			continue
		}
		for _, pr := range r.Problems {
			p.m.problems.WithLabelValues(p.source, e.name).Inc()
			log.Warn("value left null (the original is kept)", "key", key, "problem", pr)
		}
		cursor := r.TS.UTC().Format(time.RFC3339Nano) + " " + key
		ev := &envelope.Event{
			Op: op, After: r.Values, TsMs: now,
			Source: envelope.SourceInfo{
				Connector: t.Connector, Name: p.source, DB: t.DB, Schema: t.Schema, Table: t.Name,
				TsMs: r.TS.UnixMilli(), Snapshot: snapshot, Cursor: cursor,
			},
		}
		rs, err := e.stream.Records(ev)
		if err != nil {
			payload := r.Raw
			if payload == nil {
				payload = []byte(fmt.Sprint(r.Values))
			}
			if err := p.deadLetter(ctx, e, t, err, payload); err != nil {
				return pos, err
			}
		} else {
			recs = append(recs, rs...)
		}
		done = append(done, emitted{key, r.TS})
	}
	if len(recs) > 0 {
		if err := p.em.ProduceSync(ctx, recs); err != nil {
			return pos, fmt.Errorf("produce %d records to %s: %w", len(recs), t.Topic(), err)
		}
	}
	p.m.duplicates.WithLabelValues(p.source, e.name).Add(float64(dups))
	if len(done) == 0 {
		return moved, nil
	}
	for _, d := range done {
		if d.ts.After(e.cur.TS) || e.cur.TS.IsZero() {
			e.cur.TS = d.ts
		}
		e.cur.Key = d.key
		if t, ok := e.seen[d.key]; !ok || d.ts.After(t) {
			e.seen[d.key] = d.ts
		}
	}
	e.cur.Rows += int64(len(done))
	if err := p.save(ctx, e); err != nil {
		return pos, err
	}
	p.m.rows.WithLabelValues(p.source, e.name).Add(float64(len(done)))
	log.Debug("page emitted", "rows", len(done), "duplicates", dups, "cursor", e.cur.TS)
	return moved, nil
}

// save prunes the seen set and writes the cursor.
func (p *Poller) save(ctx context.Context, e *entity) error {
	e.seen.prune(&e.cur, e.cur.TS.Add(-p.opts.Overlap), p.opts.MaxSeen)
	e.cur.Saved = time.Now().UTC()
	if err := p.st.Put(ctx, e.key, &e.cur); err != nil {
		return fmt.Errorf("store cursor %s: %w", e.key, err)
	}
	p.reportCursor(e)
	return nil
}

func (p *Poller) reportCursor(e *entity) {
	c := e.cur
	if !c.TS.IsZero() {
		p.m.cursor.WithLabelValues(p.source, e.name).Set(float64(c.TS.UnixNano()) / 1e9)
	}
	p.update(e.name, func(s *EntityStatus) {
		s.CursorTime, s.Rows, s.Backfilling = c.TS, c.Rows, !c.Backfilled
		s.Cursor = ""
		if !c.TS.IsZero() {
			s.Cursor = c.TS.Format(time.RFC3339Nano) + " " + c.Key
		}
	})
}

// deadLetter writes a row that cannot be emitted to the dead-letter topic,
// once per payload while the process runs (the overlap re-reads it).
func (p *Poller) deadLetter(ctx context.Context, e *entity, t *envelope.Table, reason error, raw []byte) error {
	h := maphash.Bytes(dlqHash, raw)
	if e.dlqSeen[h] {
		return nil
	}
	if err := p.em.DeadLetter(ctx, t, reason, string(raw)); err != nil {
		return fmt.Errorf("dead letter for %s: %w", t.Topic(), err)
	}
	if len(e.dlqSeen) > 10_000 {
		clear(e.dlqSeen)
	}
	e.dlqSeen[h] = true
	p.m.deadLetters.WithLabelValues(p.source, e.name).Inc()
	return nil
}
