package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Registry is a schema registry backed by a compacted Kafka topic.
type Registry struct {
	cfg     Config
	brokers []string
	kopts   []kgo.Opt
	log     *slog.Logger
	metrics *metrics
	state   *state
	handler http.Handler

	writer *kgo.Client // produces and administers the topic
	reader *kgo.Client // tails the topic; created by Start

	writeMu sync.Mutex // serialises every write to the topic

	lifeMu  sync.Mutex
	started bool
	closed  bool
	ready   atomic.Bool
	ctx     context.Context // ends when Close is called
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New validates cfg and builds a registry that talks to the Kafka brokers
// (host:port). kopts are extra franz-go options (TLS, SASL, ...) for both
// of its clients. Metrics are registered on reg when it is not nil. Call
// Start (or Run) to load the topic and Close to release the clients.
func New(brokers []string, cfg Config, logger *slog.Logger, reg prometheus.Registerer, kopts ...kgo.Opt) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("registry config: %w", err)
	}
	if len(brokers) == 0 {
		return nil, errors.New("registry config: no Kafka brokers")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register registry metrics: %w", err)
	}
	r := &Registry{
		cfg:     cfg,
		brokers: append([]string(nil), brokers...),
		kopts:   append([]kgo.Opt(nil), kopts...),
		log:     logger.With("component", "registry"),
		metrics: m,
		state:   newState(),
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(r.brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(cfg.WriteTimeout),
		// A write must fail within WriteTimeout even while in flight; a
		// duplicate of a keyed record is harmless in a compacted topic.
		kgo.AllowIdempotentProduceCancellation(),
	}, r.kopts...)
	r.writer, err = kgo.NewClient(opts...)
	if err != nil {
		m.unregister()
		return nil, fmt.Errorf("create kafka producer: %w", err)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.handler = r.routes()
	return r, nil
}

// Start creates the topic if needed, reads it from the beginning to its high
// watermark and returns once the registry is ready to serve, or with an error
// after ctx ends, Config.StartTimeout passes or Close is called. A background
// reader then keeps applying new records until Close. Start may be called
// once; after a failed Start, Close the registry and build a new one.
func (r *Registry) Start(ctx context.Context) error {
	r.lifeMu.Lock()
	switch {
	case r.closed:
		r.lifeMu.Unlock()
		return ErrClosed
	case r.started:
		r.lifeMu.Unlock()
		return ErrStarted
	}
	r.started = true
	r.lifeMu.Unlock()

	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.StartTimeout)
	defer cancel()
	defer context.AfterFunc(r.ctx, cancel)() // Close aborts Start
	if err := r.ensureTopic(ctx); err != nil {
		return err
	}
	hwm, err := r.loadTarget(ctx)
	if err != nil {
		return err
	}
	reader, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(r.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			r.cfg.Topic: {0: kgo.NewOffset().AtStart()},
		}),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, r.kopts...)...)
	if err != nil {
		return fmt.Errorf("create kafka consumer: %w", err)
	}
	r.lifeMu.Lock()
	if r.closed {
		r.lifeMu.Unlock()
		reader.Close()
		return ErrClosed
	}
	r.reader = reader
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.tail(r.ctx)
	}()
	r.lifeMu.Unlock()

	if err := r.state.waitPosition(ctx, hwm); err != nil {
		return err
	}
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.ready.Store(true)
	r.metrics.ready.Set(1)
	r.log.Info("registry ready", "topic", r.cfg.Topic, "end_offset", hwm, "took", time.Since(began))
	return nil
}

// Ready reports whether Start has loaded the topic.
func (r *Registry) Ready() bool { return r.ready.Load() }

// Handler returns the REST API. Requests get a 50001 error until Ready.
func (r *Registry) Handler() http.Handler { return r.handler }

// Run starts the registry if it is not started yet, serves Handler on
// Config.Addr until ctx ends, then drains in-flight requests within
// Config.ShutdownTimeout. It does not Close the registry.
func (r *Registry) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", r.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", r.cfg.Addr, err)
	}
	return r.Serve(ctx, ln)
}

// Serve is Run on an existing listener, which it closes.
func (r *Registry) Serve(ctx context.Context, ln net.Listener) error {
	defer ln.Close()
	r.lifeMu.Lock()
	started := r.started
	r.lifeMu.Unlock()
	if !started {
		if err := r.Start(ctx); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Handler:           r.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	r.log.Info("registry listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve registry: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), r.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		<-errc //nolint:errcheck // http.ErrServerClosed after Close
		return fmt.Errorf("shut down registry http server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve registry: %w", err)
	}
	return nil
}

// Close stops the background reader and closes the Kafka clients. It is safe
// to call more than once.
func (r *Registry) Close() {
	r.lifeMu.Lock()
	if r.closed {
		r.lifeMu.Unlock()
		return
	}
	r.closed = true
	r.ready.Store(false)
	r.metrics.ready.Set(0)
	r.cancel()
	reader := r.reader
	r.lifeMu.Unlock()

	if reader != nil {
		reader.Close()
	}
	r.wg.Wait()
	r.writeMu.Lock() // wait for an in-flight write
	r.writer.Close()
	r.writeMu.Unlock()
	r.metrics.unregister()
}
