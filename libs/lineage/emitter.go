package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/kafka"
)

// Options are an Emitter's dependencies. The zero value is usable for an
// HTTP-only configuration.
type Options struct {
	// Service is the emitting service (sink, transform, ...): the
	// processing_engine run facet's name and the jobType facet's jobType.
	Service string
	// Version is the service's build version (processing_engine's version).
	Version string
	// Producer is the events' producer URI (DefaultProducer when empty).
	Producer string
	// Kafka reaches the cluster of Config.Topic: the service's own Kafka
	// configuration.
	Kafka kafka.Config
	// HTTPClient posts to Config.URL (a client without its own timeout;
	// Config.Timeout bounds each attempt). http.DefaultClient when nil.
	HTTPClient *http.Client
	// Logger receives a warning when a transport starts failing and a note
	// when it recovers. Discarded when nil.
	Logger *slog.Logger
	// Registerer receives the riacho_lineage_* metrics (not registered when nil).
	Registerer prometheus.Registerer
	// Now is the clock of eventTime (time.Now when nil).
	Now func() time.Time
	// RetryBackoff is the first wait after a failed send, doubled for each
	// further try up to 30s (200ms when 0).
	RetryBackoff time.Duration
}

// maxBackoff caps the wait between two tries of one send.
const maxBackoff = 30 * time.Second

// Emitter sends run events in the background. A nil *Emitter is valid and
// does nothing: it is what New returns when lineage is off.
type Emitter struct {
	cfg        Config
	opts       Options
	log        *slog.Logger
	m          *metrics
	transports []transport
	engine     *ProcessingEngineFacet
	jobType    *JobTypeFacet

	mu     sync.RWMutex // guards closed against the close of queue
	closed bool
	queue  chan RunEvent

	stop      context.Context // cancelled when Close gives up waiting
	abandon   context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// New validates cfg and starts the sender. It returns a nil *Emitter (and
// no error) when cfg names neither a URL nor a topic.
func New(cfg Config, opts Options) (*Emitter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lineage config: %w", err)
	}
	if !cfg.Enabled() {
		return nil, nil //nolint:nilnil // a nil Emitter is the disabled one
	}
	if opts.Producer == "" {
		opts.Producer = DefaultProducer
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 200 * time.Millisecond
	}
	e := &Emitter{cfg: cfg, opts: opts, log: opts.Logger.With("component", "lineage"),
		queue: make(chan RunEvent, cfg.QueueSize), done: make(chan struct{})}
	base := BaseFacet{Producer: opts.Producer}
	if opts.Service != "" || opts.Version != "" {
		e.engine = &ProcessingEngineFacet{BaseFacet: base, Name: "riacho-" + opts.Service, Version: orUnknown(opts.Version)}
		e.engine.SchemaURL = ProcessingEngineFacetURL
	}
	e.jobType = &JobTypeFacet{BaseFacet: base, ProcessingType: "STREAMING", Integration: "RIACHO", JobType: opts.Service}
	e.jobType.SchemaURL = JobTypeFacetURL
	if cfg.URL != "" {
		e.transports = append(e.transports, &httpTransport{url: cfg.URL, token: string(cfg.Token), client: opts.HTTPClient})
	}
	if cfg.Topic != "" {
		kt, err := newKafkaTransport(cfg.Topic, opts.Kafka)
		if err != nil {
			return nil, fmt.Errorf("lineage RIACHO_LINEAGE_TOPIC %s: %w", cfg.Topic, err)
		}
		e.transports = append(e.transports, kt)
	}
	names := make([]string, len(e.transports))
	for i, t := range e.transports {
		names[i] = t.name()
	}
	m, err := newMetrics(opts.Registerer, names, func() float64 { return float64(len(e.queue)) })
	if err != nil {
		e.closeTransports()
		return nil, err
	}
	e.m = m
	e.stop, e.abandon = context.WithCancel(context.Background())
	go e.send()
	return e, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Namespace is the namespace of the emitter's jobs ("" when disabled).
func (e *Emitter) Namespace() string {
	if e == nil {
		return ""
	}
	return e.cfg.Namespace
}

// Interval is Config.Interval (0 when disabled).
func (e *Emitter) Interval() time.Duration {
	if e == nil {
		return 0
	}
	return e.cfg.Interval
}

// Emit queues ev without waiting, filling in eventTime, producer and
// schemaURL when empty. A full queue drops ev and counts it.
func (e *Emitter) Emit(ev RunEvent) {
	if e == nil {
		return
	}
	if ev.EventTime.IsZero() {
		ev.EventTime = e.opts.Now().UTC()
	}
	if ev.Producer == "" {
		ev.Producer = e.opts.Producer
	}
	if ev.SchemaURL == "" {
		ev.SchemaURL = RunEventSchemaURL
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		e.m.dropped.Inc()
		return
	}
	select {
	case e.queue <- ev:
	default:
		e.m.dropped.Inc()
	}
}

// Close stops taking events and sends the queued ones, retrying as usual,
// until ctx ends; events still unsent then are counted as failed. Later
// calls return at once.
func (e *Emitter) Close(ctx context.Context) error {
	if e == nil {
		return nil
	}
	var err error
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		close(e.queue)
		e.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			e.abandon()
			<-e.done
			err = fmt.Errorf("lineage: flush at shutdown: %w", ctx.Err())
		}
		e.abandon()
		e.closeTransports()
	})
	return err
}

func (e *Emitter) closeTransports() {
	for _, t := range e.transports {
		t.close()
	}
}

// send delivers queued events until the queue is closed and empty.
func (e *Emitter) send() {
	defer close(e.done)
	for ev := range e.queue {
		body, err := json.Marshal(ev)
		if err != nil { // cannot happen with these types; counted, never silent
			for _, t := range e.transports {
				e.m.failed.WithLabelValues(t.name()).Inc()
			}
			e.log.Error("lineage event not encoded", "job", ev.Job.Name, "error", err)
			continue
		}
		for _, t := range e.transports {
			e.deliver(t, ev.Job.Name, body)
		}
	}
}

// deliver sends body through t, retrying transient failures.
func (e *Emitter) deliver(t transport, key string, body []byte) {
	backoff := e.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		err := e.attempt(t, key, body)
		if err == nil {
			e.m.sent.WithLabelValues(t.name()).Inc()
			if t.setFailing(false) {
				e.log.Info("lineage transport recovered", "transport", t.name())
			}
			return
		}
		var perm *permanentError
		if errors.As(err, &perm) || attempt >= e.cfg.Retries || e.stop.Err() != nil {
			e.m.failed.WithLabelValues(t.name()).Inc()
			if t.setFailing(true) {
				e.log.Warn("lineage events are not delivered; each failed event is counted in riacho_lineage_events_failed_total",
					"transport", t.name(), "job", key, "tries", attempt+1, "error", err)
			}
			return
		}
		select {
		case <-e.stop.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (e *Emitter) attempt(t transport, key string, body []byte) error {
	ctx, cancel := context.WithTimeout(e.stop, e.cfg.Timeout)
	defer cancel()
	return t.send(ctx, key, body)
}
