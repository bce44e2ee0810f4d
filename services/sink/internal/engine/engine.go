package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// Deps are the engine's collaborators.
type Deps struct {
	// Kafka reaches the brokers (consumer and dead-letter producer).
	Kafka kafka.Config
	// Registry resolves writer schema ids.
	Registry *avro.Client
	// Store is the lake the files are staged in and moved to.
	Store *lake.Store
	// Catalog holds the Iceberg tables.
	Catalog *table.Catalog
	// Layout names the final file paths.
	Layout lake.Layout
	// Logger and Registerer (both optional) receive logs and metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// ShutdownTimeout bounds the final commit of open files when Run's
	// context ends (30s when 0).
	ShutdownTimeout time.Duration
	// KafkaOpts are extra franz-go options for the consumer.
	KafkaOpts []kgo.Opt
	// OnCommit, when set, is called after each table commit with the
	// records and Parquet bytes it added (from the partition's goroutine;
	// keep it short).
	OnCommit func(topic string, records, bytes int64)
	// OnCommitBegin, when set, is called as a range's files are about to
	// be committed to table; the function it returns (which may be nil) is
	// called once with the outcome. Both run on the partition's goroutine.
	OnCommitBegin func(topic, table string) func(CommitOutcome)
}

type topicPart struct {
	topic string
	part  int32
}

// startPos is where an assigned partition starts: the table's next offset,
// or -1 when the table has none (the first record delivered).
type startPos struct {
	offset int64
}

// Engine consumes the configured topics into the lake. Create it with New
// and run it with Run; Pause, Resume and Status may be called while it runs.
type Engine struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	store   *lake.Store
	layout  lake.Layout
	serde   *avro.Serde
	schemas *schemas
	tables  *tables
	metrics *metrics
	topicRe *regexp.Regexp

	commitSeconds prometheus.Histogram

	cl      *kgo.Client
	dlqProd *kafka.Producer

	workCtx    context.Context
	workCancel context.CancelFunc
	drainCh    chan struct{}

	mu         sync.Mutex
	parts      map[topicPart]*partition
	starts     map[topicPart]startPos
	seeks      []seekRequest
	pollCancel context.CancelFunc
	hwm        map[topicPart]int64
	groupNext  map[topicPart]int64
	groupKick  chan struct{}

	paused   atomic.Bool
	resumeCh chan struct{}
	ready    atomic.Bool
	runOnce  atomic.Bool

	records, bytes, files, commits, deadLetters atomic.Int64
	tokenBase                                   int64
	tokenSeq                                    atomic.Int64
}

// New checks cfg and builds an engine; it connects to nothing until Run.
func New(cfg Config, deps Deps) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid sink engine configuration: %w", err)
	}
	cfg.fill()
	switch {
	case deps.Registry == nil:
		return nil, errors.New("sink engine: a schema registry client is required")
	case deps.Store == nil:
		return nil, errors.New("sink engine: a lake store is required")
	case deps.Catalog == nil:
		return nil, errors.New("sink engine: a table catalog is required")
	case len(deps.Kafka.Brokers) == 0:
		return nil, errors.New("sink engine: no Kafka brokers")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.ShutdownTimeout <= 0 {
		deps.ShutdownTimeout = 30 * time.Second
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, deps: deps, log: deps.Logger,
		store: deps.Store, layout: deps.Layout,
		serde:   avro.NewSerde(deps.Registry),
		schemas: &schemas{reg: deps.Registry, fields: cfg.EventTimeFields, byID: map[uint32]*writerSchema{}},
		tables:  &tables{cat: deps.Catalog, byName: map[string]*tableEntry{}},
		metrics: m,
		topicRe: regexp.MustCompile(cfg.Topics),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "riacho_sink_commit_seconds",
			Help:    "Time of one table commit (move of the staged files and the snapshot).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		drainCh:   make(chan struct{}),
		parts:     map[topicPart]*partition{},
		starts:    map[topicPart]startPos{},
		hwm:       map[topicPart]int64{},
		groupNext: map[topicPart]int64{},
		groupKick: make(chan struct{}, 1),
		resumeCh:  make(chan struct{}, 1),
		tokenBase: int64(rand.Uint32()>>1) << 32, //nolint:gosec // uniqueness, not secrecy
	}
	if deps.Registerer != nil {
		if err := deps.Registerer.Register(e.commitSeconds); err != nil {
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
		if err := deps.Registerer.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "riacho_sink_open_partitions",
			Help: "Partitions this sink is writing.",
		}, func() float64 { e.mu.Lock(); defer e.mu.Unlock(); return float64(len(e.parts)) })); err != nil {
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
	}
	return e, nil
}

// fileToken is unique per staged file of this engine.
func (e *Engine) fileToken() int64 { return e.tokenBase | e.tokenSeq.Add(1) }

// Ready reports whether the engine has joined its group and is consuming.
func (e *Engine) Ready() bool { return e.ready.Load() }

// Run consumes until ctx ends, then commits the open files (bounded by
// Deps.ShutdownTimeout), commits the group offsets and leaves the group.
// It returns nil after a clean stop.
func (e *Engine) Run(ctx context.Context) error {
	if !e.runOnce.CompareAndSwap(false, true) {
		return errors.New("sink engine: Run called twice")
	}
	e.workCtx, e.workCancel = context.WithCancel(context.WithoutCancel(ctx))
	defer e.workCancel()

	var err error
	e.dlqProd, err = kafka.NewProducer(e.deps.Kafka, kafka.ProducerOptions{
		Telemetry: kafka.Telemetry{Logger: e.log},
		Linger:    5 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("dead-letter producer: %w", err)
	}
	defer e.dlqProd.Close()
	if err := e.ensureDLQ(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	opts := []kgo.Opt{
		kgo.ConsumerGroup(e.cfg.Group),
		kgo.ConsumeTopics(e.cfg.Topics),
		kgo.ConsumeRegex(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AdjustFetchOffsetsFn(e.adjustOffsets),
		kgo.OnPartitionsRevoked(e.onRevoked),
		kgo.OnPartitionsLost(e.onLost),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.MetadataMaxAge(e.cfg.TopicRefresh),
		kgo.MetadataMinAge(min(e.cfg.TopicRefresh, 5*time.Second)),
	}
	if e.cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(e.cfg.SessionTimeout),
			kgo.HeartbeatInterval(min(3*time.Second, e.cfg.SessionTimeout/3)))
	}
	if e.cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(e.cfg.InstanceID))
	}
	if e.cfg.RebalanceTimeout > 0 {
		opts = append(opts, kgo.RebalanceTimeout(e.cfg.RebalanceTimeout))
	}
	opts = append(opts, e.deps.KafkaOpts...)
	opts = append(opts, kgo.DisableAutoCommit())
	e.cl, err = kafka.NewClient(e.deps.Kafka, opts...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	committerDone := make(chan struct{})
	committerCtx, stopCommitter := context.WithCancel(e.workCtx)
	go func() { defer close(committerDone); e.groupCommitter(committerCtx) }()

	e.ready.Store(true)
	e.log.Info("sink consuming", "topics", e.cfg.Topics, "group", e.cfg.Group, "lake", e.store.URL())
	e.pollLoop(ctx)
	e.ready.Store(false)

	// Shutdown: commit what is open, then the group offsets, then leave.
	e.drainAll()
	stopCommitter()
	<-committerDone
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	e.commitGroupNow(fctx)
	cancel()
	e.cl.CloseAllowingRebalance()
	if err := e.dlqProd.Flush(context.Background()); err != nil {
		e.log.Warn("flush dead letters at shutdown", "error", err)
	}
	return nil
}

// ensureDLQ creates the dead-letter topic, retrying while Kafka is away.
func (e *Engine) ensureDLQ(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	for {
		err := kafka.EnsureTopics(ctx, e.dlqProd.Client(), kafka.TopicSpec{Name: e.cfg.DLQTopic})
		if err == nil {
			return nil
		}
		e.log.Warn("creating the dead-letter topic failed; retrying", "topic", e.cfg.DLQTopic, "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (e *Engine) pollLoop(ctx context.Context) {
	for ctx.Err() == nil {
		e.applySeeks()
		e.cl.AllowRebalance()
		if e.paused.Load() {
			select {
			case <-ctx.Done():
			case <-e.resumeCh:
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		e.mu.Lock()
		e.pollCancel = cancel
		e.mu.Unlock()
		fs := e.cl.PollRecords(pctx, e.cfg.MaxPollRecords)
		e.mu.Lock()
		e.pollCancel = nil
		e.mu.Unlock()
		cancel()
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			e.log.Warn("fetch failed", "topic", t, "partition", p, "error", err)
		})
		fs.EachPartition(func(ftp kgo.FetchTopicPartition) {
			if ftp.Err != nil {
				return
			}
			e.noteHighWatermark(ftp.Topic, ftp.Partition, ftp.HighWatermark)
			if len(ftp.Records) > 0 {
				e.dispatch(ctx, ftp.Topic, ftp.Partition, ftp.Records)
			}
		})
	}
}

// dispatch hands records to their partition's writer, starting it on first use.
func (e *Engine) dispatch(ctx context.Context, topic string, part int32, recs []*kgo.Record) {
	tp := topicPart{topic, part}
	e.mu.Lock()
	p := e.parts[tp]
	if p == nil {
		target, err := ParseTopic(topic)
		if err != nil {
			e.mu.Unlock()
			e.log.Error("topic cannot be written; its records are skipped", "topic", topic, "error", err)
			return
		}
		sp, ok := e.starts[tp]
		if !ok {
			sp = startPos{offset: -1}
		}
		p = e.newPartition(topic, part, target, sp.offset)
		e.parts[tp] = p
		go p.run(e.drainCh)
	}
	e.mu.Unlock()
	b := batch{gen: p.dispatchGen.Load(), recs: recs}
	select {
	case p.in <- b:
	case <-p.done:
	case <-ctx.Done():
	}
}

// requestSeek queues a partition's fetch move for the poll loop and wakes it.
func (e *Engine) requestSeek(r seekRequest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seeks = append(e.seeks, r)
	if e.pollCancel != nil {
		e.pollCancel()
	}
}

// applySeeks moves fetch positions as partitions asked, from the poll
// loop before it allows a rebalance (as franz-go requires); batches
// dispatched afterwards carry the new generation.
func (e *Engine) applySeeks() {
	e.mu.Lock()
	seeks := e.seeks
	e.seeks = nil
	e.mu.Unlock()
	for _, s := range seeks {
		tp := topicPart{s.p.topic, s.p.part}
		e.mu.Lock()
		current := e.parts[tp] == s.p
		e.mu.Unlock()
		if !current {
			continue
		}
		e.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{s.p.topic: {s.p.part: {Epoch: -1, Offset: s.offset}}})
		s.p.dispatchGen.Store(s.gen)
	}
}

// adjustOffsets starts every assigned partition at the next offset its
// table recorded; the group's committed offset (or the log start) is only
// used for partitions the table has never seen.
func (e *Engine) adjustOffsets(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	for topic, parts := range offsets {
		target, err := ParseTopic(topic)
		if err != nil {
			continue // skipped at dispatch
		}
		recorded, err := e.tables.offsets(ctx, target)
		if err != nil {
			e.log.Error("reading the table's offsets failed; rejoining the group", "topic", topic, "error", err)
			return nil, err
		}
		e.mu.Lock()
		for p := range parts {
			tp := topicPart{topic, p}
			if next, ok := recorded[p]; ok {
				parts[p] = kgo.NewOffset().At(next).WithEpoch(-1)
				e.starts[tp] = startPos{offset: next}
			} else {
				e.starts[tp] = startPos{offset: -1}
			}
		}
		e.mu.Unlock()
		e.log.Info("partitions assigned", "topic", topic, "table", target.Table(), "table_offsets", recorded)
	}
	return offsets, nil
}

func (e *Engine) onRevoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	e.release(revoked, "revoked")
}

func (e *Engine) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	e.release(lost, "lost")
}

// release stops the writers of partitions leaving this member: their open
// files are abandoned and the next owner reads from the table's offsets.
func (e *Engine) release(parts map[string][]int32, why string) {
	var stopped []*partition
	e.mu.Lock()
	for topic, ps := range parts {
		for _, part := range ps {
			tp := topicPart{topic, part}
			if p := e.parts[tp]; p != nil {
				stopped = append(stopped, p)
				delete(e.parts, tp)
			}
			delete(e.starts, tp)
			delete(e.hwm, tp)
			delete(e.groupNext, tp)
			e.metrics.lag.DeleteLabelValues(topic, itoa(int64(part)))
		}
	}
	e.mu.Unlock()
	for _, p := range stopped {
		select {
		case p.quit <- why:
		default:
		}
		p.stop() // cancels a commit or write in progress
	}
	for _, p := range stopped {
		<-p.done
	}
}

// drainAll commits every partition's open files at shutdown, bounded by
// Deps.ShutdownTimeout; writers still busy then are cancelled.
func (e *Engine) drainAll() {
	close(e.drainCh)
	e.mu.Lock()
	parts := make([]*partition, 0, len(e.parts))
	for _, p := range e.parts {
		parts = append(parts, p)
	}
	e.mu.Unlock()
	timer := time.NewTimer(e.deps.ShutdownTimeout)
	defer timer.Stop()
	for _, p := range parts {
		select {
		case <-p.done:
		case <-timer.C:
			e.log.Warn("shutdown timeout: open files abandoned", "timeout", e.deps.ShutdownTimeout)
			e.workCancel()
			<-p.done
		}
	}
}

func (e *Engine) noteHighWatermark(topic string, part int32, hwm int64) {
	tp := topicPart{topic, part}
	e.mu.Lock()
	e.hwm[tp] = hwm
	p := e.parts[tp]
	e.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		p.st.HighWatermark = hwm
		committed := p.st.Committed
		p.mu.Unlock()
		if committed >= 0 {
			e.metrics.lag.WithLabelValues(topic, itoa(int64(part))).Set(float64(max(hwm-committed, 0)))
		}
	}
}

// FlushResult is what Flush did to one partition.
type FlushResult struct {
	Topic     string
	Partition int32
	Table     string
	// Records is how many records the commit covered (0: nothing was open).
	Records int64
	// Err is set when the open range could not be committed; it is read
	// again from the table's offsets, so nothing is lost.
	Err error
}

// ErrFlushAbandoned means an open range could not be committed and will be
// read again.
var ErrFlushAbandoned = errors.New("commit failed; the range is read again from the table's offsets")

// Flush commits the open files of every assigned partition whose table is
// name ("" for all) now, instead of at the next rotation. Records that
// arrive meanwhile go into the next range as usual.
func (e *Engine) Flush(ctx context.Context, name string) ([]FlushResult, error) {
	e.mu.Lock()
	parts := make([]*partition, 0, len(e.parts))
	for _, p := range e.parts {
		if name == "" || p.target.Table() == name {
			parts = append(parts, p)
		}
	}
	e.mu.Unlock()
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].topic != parts[j].topic {
			return parts[i].topic < parts[j].topic
		}
		return parts[i].part < parts[j].part
	})
	out := make([]FlushResult, 0, len(parts))
	for _, p := range parts {
		r := FlushResult{Topic: p.topic, Partition: p.part, Table: p.target.Table()}
		reply := make(chan int64, 1)
		select {
		case p.flushes <- reply:
		case <-p.done:
			continue // released meanwhile: its next owner commits it
		case <-ctx.Done():
			return out, ctx.Err()
		}
		select {
		case n := <-reply:
			if r.Records = n; n < 0 {
				r.Records, r.Err = 0, ErrFlushAbandoned
			}
		case <-ctx.Done():
			return out, ctx.Err()
		}
		out = append(out, r)
	}
	return out, nil
}

// Pause stops fetching; open files stay open (and are still committed when
// RotateInterval passes).
func (e *Engine) Pause() {
	e.paused.Store(true)
	e.mu.Lock()
	if e.pollCancel != nil {
		e.pollCancel()
	}
	e.mu.Unlock()
}

// Resume undoes Pause.
func (e *Engine) Resume() {
	e.paused.Store(false)
	select {
	case e.resumeCh <- struct{}{}:
	default:
	}
}

// Paused reports whether the engine is paused.
func (e *Engine) Paused() bool { return e.paused.Load() }
