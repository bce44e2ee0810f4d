package warehouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

// LoaderConfig tunes a Loader. Zero fields take the defaults.
type LoaderConfig struct {
	// Consumer names the loader's rows in riacho_offsets and its Kafka
	// consumer group ("riacho-metrics-loader").
	Consumer string
	// MaxBatchRecords bounds the records of one load transaction (5000).
	MaxBatchRecords int
	// Linger is how long a batch waits for more records after its first (200ms).
	Linger time.Duration
	// RetryBackoff is the first wait after a failed transaction (500ms);
	// it doubles up to MaxBackoff (30s).
	RetryBackoff, MaxBackoff time.Duration
	// SessionTimeout and RebalanceTimeout tune the consumer group (franz-go's
	// defaults, 45s and 60s, when zero).
	SessionTimeout, RebalanceTimeout time.Duration
	// DrainTimeout bounds the last flush after Run's context ends (10s).
	DrainTimeout time.Duration
	// Now is the clock of loaded_at and rejected_at (time.Now).
	Now func() time.Time
}

func (c *LoaderConfig) defaults() {
	if c.Consumer == "" {
		c.Consumer = "riacho-metrics-loader"
	}
	if c.MaxBatchRecords <= 0 {
		c.MaxBatchRecords = 5000
	}
	if c.Linger <= 0 {
		c.Linger = 200 * time.Millisecond
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Status is a snapshot of a loader.
type Status struct {
	// Rows is the records applied per table: riacho_freshness's count when
	// Run started, plus this run's.
	Rows map[string]int64
	// Rejects is the records written to riacho_rejects per table by this run.
	Rejects    map[string]int64
	Batches    int64     // transactions committed by this run
	LastCommit time.Time // zero before the first
	Generation int64     // newest generation committed (or read at start)
	LastError  string    // the last failure, cleared by the next commit
	Lag        int64     // committed records not yet loaded on owned partitions
	Partitions int       // partitions owned
}

type topicPartition struct {
	topic     string
	partition int32
}

// position is what the warehouse says of one partition.
type position struct {
	next   int64 // next offset to load
	stored bool  // a riacho_offsets row exists
}

// Loader consumes the schema's topics into the warehouse exactly once. See
// doc.go for the guarantees.
type Loader struct {
	cfg     LoaderConfig
	st      *store.Store
	schema  *Schema
	byTopic map[string]*Table
	kcfg    kafka.Config
	extra   []kgo.Opt
	serde   *avro.Serde
	log     *slog.Logger
	m       *loaderMetrics

	cl      *kgo.Client
	running sync.Once

	mu       sync.Mutex
	pos      map[topicPartition]position // owned partitions
	lso      map[topicPartition]int64    // last stable offsets seen in fetches
	status   Status
	onCommit []func(generation int64, tables []string)
	onLoad   []func(rows map[string]int64, err error)
}

// NewLoader returns a loader of s's tables into st, reading Kafka through
// kcfg (extra options are applied last) and decoding values with serde.
// Metrics are registered on reg (nil: not registered).
func NewLoader(cfg LoaderConfig, st *store.Store, s *Schema, kcfg kafka.Config, serde *avro.Serde,
	log *slog.Logger, reg prometheus.Registerer, extra ...kgo.Opt,
) (*Loader, error) {
	cfg.defaults()
	if st == nil || s == nil || serde == nil {
		return nil, errors.New("warehouse loader: store, schema and serde are required")
	}
	if len(s.Tables) == 0 {
		return nil, errors.New("warehouse loader: the schema has no tables")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := kcfg.Opts(); err != nil {
		return nil, fmt.Errorf("warehouse loader: %w", err)
	}
	m, err := newLoaderMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("warehouse loader metrics: %w", err)
	}
	l := &Loader{cfg: cfg, st: st, schema: s, kcfg: kcfg, extra: extra, serde: serde, log: log.With("component", "warehouse-loader"), m: m,
		byTopic: map[string]*Table{}, pos: map[topicPartition]position{}, lso: map[topicPartition]int64{},
		status: Status{Rows: map[string]int64{}, Rejects: map[string]int64{}}}
	for _, t := range s.Tables {
		l.byTopic[t.Topic] = t
	}
	return l, nil
}

// OnCommit registers fn to be called after every transaction that changed
// a table, with the new generation and the tables it changed. fn runs on
// the loading goroutine: keep it short. Register before Run.
func (l *Loader) OnCommit(fn func(generation int64, tables []string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onCommit = append(l.onCommit, fn)
}

// Status returns a snapshot of the loader.
func (l *Loader) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.status
	s.Rows = maps.Clone(l.status.Rows)
	s.Rejects = maps.Clone(l.status.Rejects)
	s.Partitions = len(l.pos)
	s.Lag = 0
	for tp, p := range l.pos {
		if lso, ok := l.lso[tp]; ok && lso > p.next {
			s.Lag += lso - p.next
		}
	}
	return s
}

func (l *Loader) setError(err error) {
	l.mu.Lock()
	l.status.LastError = err.Error()
	l.mu.Unlock()
}

// Run loads until ctx ends, then flushes what it holds (bounded by
// DrainTimeout) and leaves the group. It returns nil after ctx ends; a
// loader runs once.
func (l *Loader) Run(ctx context.Context) error {
	first := false
	l.running.Do(func() { first = true })
	if !first {
		return errors.New("warehouse loader: Run called twice")
	}
	if err := l.retry(ctx, "read warehouse freshness", l.seedStatus); err != nil {
		return nil //nolint:nilerr // ctx ended while waiting for the warehouse
	}
	topics := make([]string, 0, len(l.byTopic))
	for t := range l.byTopic {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	opts := []kgo.Opt{
		kgo.ConsumerGroup(l.cfg.Consumer),
		kgo.ConsumeTopics(topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(l.adjustOffsets),
		kgo.OnPartitionsRevoked(l.dropPartitions),
		kgo.OnPartitionsLost(l.dropPartitions),
	}
	if l.cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(l.cfg.SessionTimeout),
			kgo.HeartbeatInterval(min(3*time.Second, l.cfg.SessionTimeout/3)))
	}
	if l.cfg.RebalanceTimeout > 0 {
		opts = append(opts, kgo.RebalanceTimeout(l.cfg.RebalanceTimeout))
	}
	cl, err := kafka.NewClient(l.kcfg, append(opts, l.extra...)...)
	if err != nil {
		return fmt.Errorf("warehouse loader: %w", err)
	}
	l.cl = cl
	defer cl.Close()
	l.log.Info("warehouse loader running", "consumer", l.cfg.Consumer, "topics", topics, "warehouse", l.st.DSN)
	l.loop(ctx)
	cl.AllowRebalance()
	return nil
}

func (l *Loader) seedStatus(ctx context.Context) error {
	fr, gen, err := ReadFreshness(ctx, l.st)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.schema.Tables {
		l.status.Rows[t.Name] = fr[t.Name].Rows
	}
	l.status.Generation = gen
	l.m.generation.Set(float64(gen))
	return nil
}

// retry runs fn until it succeeds or ctx ends, backing off between tries.
func (l *Loader) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	backoff := l.cfg.RetryBackoff
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.setError(fmt.Errorf("%s: %w", what, err))
		l.log.Warn(what+" failed; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, l.cfg.MaxBackoff)
	}
}

// adjustOffsets starts every assigned partition at the offset the
// warehouse holds (the start of the topic when it holds none): Kafka's
// committed offsets are only a mirror for lag tools.
func (l *Loader) adjustOffsets(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	var stored map[topicPartition]int64
	err := l.retry(ctx, "read loader offsets", func(ctx context.Context) error {
		var err error
		stored, err = l.readOffsets(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for topic, parts := range assigned {
		for p := range parts {
			tp := topicPartition{topic, p}
			if n, ok := stored[tp]; ok {
				parts[p] = kgo.NewOffset().At(n).WithEpoch(-1)
				l.pos[tp] = position{next: n, stored: true}
			} else {
				parts[p] = kgo.NewOffset().AtStart()
				l.pos[tp] = position{next: 0}
			}
		}
	}
	l.log.Info("partitions assigned", "partitions", len(l.pos))
	return assigned, nil
}

func (l *Loader) dropPartitions(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for topic, parts := range lost {
		for _, p := range parts {
			delete(l.pos, topicPartition{topic, p})
			delete(l.lso, topicPartition{topic, p})
		}
		l.m.lag.DeleteLabelValues(topic)
	}
}

// readOffsets reads this consumer's rows of riacho_offsets.
func (l *Loader) readOffsets(ctx context.Context) (map[topicPartition]int64, error) {
	const query = `SELECT topic, "partition", next_offset FROM riacho_offsets WHERE consumer = $1`
	out := map[topicPartition]int64{}
	if l.st.Dialect == store.Postgres {
		rows, err := l.st.PG.Query(ctx, query, l.cfg.Consumer)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var topic string
			var p int32
			var n int64
			if err := rows.Scan(&topic, &p, &n); err != nil {
				return nil, err
			}
			out[topicPartition{topic, p}] = n
		}
		return out, rows.Err()
	}
	rows, err := l.st.Duck.QueryContext(ctx, query, l.cfg.Consumer)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var topic string
		var p int32
		var n int64
		if err := rows.Scan(&topic, &p, &n); err != nil {
			return nil, err
		}
		out[topicPartition{topic, p}] = n
	}
	return out, rows.Err()
}

// loop polls and flushes until ctx ends. Rebalances are blocked from a poll
// until the batch it fed is committed, so callbacks never see a batch in flight.
func (l *Loader) loop(ctx context.Context) {
	var (
		buf      []*kgo.Record
		deadline time.Time
	)
	for ctx.Err() == nil {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if len(buf) > 0 {
			pctx, cancel = context.WithDeadline(ctx, deadline)
		}
		fs := l.cl.PollRecords(pctx, l.cfg.MaxBatchRecords-len(buf))
		cancel()
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				l.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		l.noteFetches(fs)
		if recs := fs.Records(); len(recs) > 0 {
			if len(buf) == 0 {
				deadline = time.Now().Add(l.cfg.Linger)
			}
			buf = append(buf, recs...)
		}
		if len(buf) > 0 && (len(buf) >= l.cfg.MaxBatchRecords || !time.Now().Before(deadline) || ctx.Err() != nil) {
			fctx := ctx
			if ctx.Err() != nil {
				var c context.CancelFunc
				fctx, c = context.WithTimeout(context.WithoutCancel(ctx), l.cfg.DrainTimeout)
				defer c()
			}
			if err := l.flush(fctx, buf); err != nil && fctx.Err() == nil {
				l.log.Warn("load batch", "err", err)
			}
			buf = nil
		}
		if len(buf) == 0 {
			l.cl.AllowRebalance()
		}
	}
}

func (l *Loader) noteFetches(fs kgo.Fetches) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if p.Err == nil && p.LastStableOffset >= 0 {
			l.lso[topicPartition{p.Topic, p.Partition}] = p.LastStableOffset
		}
	})
	l.updateLagLocked()
}

func (l *Loader) updateLagLocked() {
	lag := map[string]int64{}
	for tp, p := range l.pos {
		if lso, ok := l.lso[tp]; ok && lso > p.next {
			lag[tp.topic] += lso - p.next
		} else {
			lag[tp.topic] += 0
		}
	}
	for topic, n := range lag {
		l.m.lag.WithLabelValues(topic).Set(float64(n))
	}
}

// flush loads recs: one transaction normally; record by record when the
// warehouse refused a value (so one bad record is rejected, not retried
// forever); retrying with backoff when the warehouse or registry is down.
// Records at offsets the warehouse already holds are skipped, so a retry
// after an unknown commit outcome loads nothing twice.
func (l *Loader) flush(ctx context.Context, recs []*kgo.Record) error {
	backoff := l.cfg.RetryBackoff
	for {
		err := l.load(ctx, recs)
		if errors.Is(err, errDataRefused) {
			l.log.Warn("the warehouse refused a batch; loading it record by record", "err", err)
			err = l.loadOneByOne(ctx, recs)
		}
		if err == nil {
			return nil
		}
		if errors.Is(err, errFenced) {
			l.log.Warn("another loader advanced these partitions; resuming from the warehouse's offsets", "err", err)
			return l.resync(ctx, recs)
		}
		if ctx.Err() != nil {
			return err
		}
		l.m.failures.Inc()
		l.setError(err)
		l.notifyLoad(nil, err)
		l.log.Warn("load failed; retrying", "err", err, "in", backoff, "records", len(recs))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, l.cfg.MaxBackoff)
	}
}

func (l *Loader) loadOneByOne(ctx context.Context, recs []*kgo.Record) error {
	for i := range recs {
		err := l.load(ctx, recs[i:i+1])
		if errors.Is(err, errDataRefused) {
			err = l.reject(ctx, recs[i], err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// resync re-reads the warehouse's offsets of recs' partitions and seeks there.
func (l *Loader) resync(ctx context.Context, recs []*kgo.Record) error {
	var stored map[topicPartition]int64
	err := l.retry(ctx, "read loader offsets", func(ctx context.Context) error {
		var err error
		stored, err = l.readOffsets(ctx)
		return err
	})
	if err != nil {
		return err
	}
	seek := map[string]map[int32]kgo.EpochOffset{}
	l.mu.Lock()
	for _, r := range recs {
		tp := topicPartition{r.Topic, r.Partition}
		if _, owned := l.pos[tp]; !owned {
			continue
		}
		n, ok := stored[tp]
		l.pos[tp] = position{next: n, stored: ok}
		if seek[r.Topic] == nil {
			seek[r.Topic] = map[int32]kgo.EpochOffset{}
		}
		seek[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: -1, Offset: n}
	}
	l.mu.Unlock()
	l.cl.SetOffsets(seek)
	return nil
}

// commitKafka mirrors the committed offsets into the consumer group, for
// lag tools; the warehouse stays the source of truth.
func (l *Loader) commitKafka(next map[topicPartition]int64) {
	if l.cl == nil {
		return
	}
	offs := map[string]map[int32]kgo.EpochOffset{}
	for tp, n := range next {
		if offs[tp.topic] == nil {
			offs[tp.topic] = map[int32]kgo.EpochOffset{}
		}
		offs[tp.topic][tp.partition] = kgo.EpochOffset{Epoch: -1, Offset: n}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	l.cl.CommitOffsets(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		cancel()
		if err != nil {
			l.log.Debug("mirror offsets to the consumer group", "err", err)
		}
	})
}
