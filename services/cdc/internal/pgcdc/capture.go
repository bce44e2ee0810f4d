package pgcdc

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

// ErrSlotLost is returned by Run when the replication slot the capture
// created before is gone (dropped by hand, or not carried over by a
// failover): changes made while it was missing cannot be read any more.
var ErrSlotLost = errors.New("replication slot lost")

// ErrUnknownTable is returned by Snapshot for a table the capture does not capture.
var ErrUnknownTable = errors.New("table not captured")

// Connector is the connector name written in source.connector.
const Connector = "postgresql"

// Capture states reported by Status.
const (
	StateIdle         = "idle"
	StateStarting     = "starting"
	StateSnapshotting = "snapshotting"
	StateStreaming    = "streaming"
	StatePaused       = "paused"
	StateReconnecting = "reconnecting"
	StateFailed       = "failed"
	StateStopped      = "stopped"
)

// Capture captures one PostgreSQL database through logical replication.
type Capture struct {
	cfg     Config
	em      *emit.Emitter
	st      *state.Store
	log     *slog.Logger
	metrics *metrics
	match   matcher

	running atomic.Bool
	paused  atomic.Bool
	resume  chan struct{} // buffered(1): nudges a paused stream

	// Positions, for Status and the lag metrics.
	confirmed  atomic.Uint64 // last position reported to the server as flushed
	serverWAL  atomic.Uint64 // newest server WAL position seen (keepalives, lag poll)
	heartbeats atomic.Int64
	tracker    atomic.Pointer[ackTracker] // the running session's, nil between sessions

	mu        sync.Mutex
	stateName string
	lastErr   string
	tables    map[string]*tableState // by schema.table
	order     []string               // table ids in discovery order
	snapNudge chan struct{}          // buffered(1): a snapshot was requested

	snapMu sync.Mutex // orders updates of snapshot records (requests vs progress)

	// afterChunk, when set (tests), runs after a snapshot chunk was
	// acknowledged and recorded.
	afterChunk func(table string, chunks int)
}

// New returns a capture for cfg (defaults applied, then validated) producing
// through em and keeping its positions in st. reg receives the capture's
// metrics (nil: none).
func New(cfg Config, em *emit.Emitter, st *state.Store, logger *slog.Logger, reg prometheus.Registerer) (*Capture, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if em == nil || st == nil {
		return nil, errors.New("pgcdc: an emitter and a state store are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Capture{
		cfg: cfg, em: em, st: st, match: newMatcher(cfg),
		log:       logger.With("source", cfg.Source, "slot", cfg.Slot),
		resume:    make(chan struct{}, 1),
		stateName: StateIdle,
		tables:    map[string]*tableState{},
		snapNudge: make(chan struct{}, 1),
	}
	m, err := newMetrics(c, reg)
	if err != nil {
		return nil, err
	}
	c.metrics = m
	return c, nil
}

// Config is the capture's configuration with defaults applied.
func (c *Capture) Config() Config { return c.cfg }

// Run captures until ctx ends (then it drains in-flight records, reports
// the confirmed position and returns nil) or a fatal error: a lost slot
// (ErrSlotLost) or a failure to set up the publication. Connection
// failures and Kafka errors are retried with a backoff, resuming from the
// slot. Run may be called again after it returned.
func (c *Capture) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("pgcdc: Run is already running")
	}
	defer c.running.Store(false)
	backoff := 500 * time.Millisecond
	for {
		c.setState(StateStarting, "")
		started := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			c.setState(StateStopped, "")
			return nil
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			c.setState(StateFailed, fatal.Error())
			if errors.Is(err, ErrSlotLost) {
				c.log.Error("replication slot lost: changes made since it disappeared cannot be captured; "+
					"recreate it deliberately (on_slot_loss: resnapshot) after checking what was missed",
					"err", err)
			} else {
				c.log.Error("capture stopped", "err", err)
			}
			return fatal.err
		}
		if time.Since(started) > time.Minute {
			backoff = 500 * time.Millisecond
		}
		c.setState(StateReconnecting, err.Error())
		c.log.Warn("capture session ended; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			c.setState(StateStopped, "")
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// fatalError marks an error Run does not retry.
type fatalError struct{ err error }

func (f *fatalError) Error() string { return f.err.Error() }
func (f *fatalError) Unwrap() error { return f.err }

func fatal(err error) error { return &fatalError{err: err} }

// Pause stops reading changes; the stream stays open and the capture keeps
// reporting its position so the server does not time it out.
func (c *Capture) Pause() {
	if c.paused.CompareAndSwap(false, true) {
		c.log.Info("capture paused")
	}
}

// Resume undoes Pause.
func (c *Capture) Resume() {
	if c.paused.CompareAndSwap(true, false) {
		c.log.Info("capture resumed")
		select {
		case c.resume <- struct{}{}:
		default:
		}
	}
}

func (c *Capture) setState(s, errText string) {
	c.mu.Lock()
	c.stateName = s
	if errText != "" || s == StateStreaming {
		c.lastErr = errText
	}
	c.mu.Unlock()
}

// table returns the state of schema.table, creating it.
func (c *Capture) table(schema, name string) *tableState {
	id := schema + "." + name
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.tables[id]
	if ts == nil {
		ts = newTableState(c, schema, name)
		c.tables[id] = ts
		c.order = append(c.order, id)
	}
	return ts
}

func (c *Capture) nudgeSnapshots() {
	select {
	case c.snapNudge <- struct{}{}:
	default:
	}
}

// stateKey is the key of a position in the state store.
func (c *Capture) slotKey() string { return "pg/" + c.cfg.Source + "/slot" }

func (c *Capture) snapshotKey(id string) string { return "pg/" + c.cfg.Source + "/snapshot/" + id }

// noteServerWAL keeps the newest server WAL position seen.
func (c *Capture) noteServerWAL(lsn pglogrepl.LSN) {
	for {
		cur := c.serverWAL.Load()
		if uint64(lsn) <= cur || c.serverWAL.CompareAndSwap(cur, uint64(lsn)) {
			return
		}
	}
}
