package pgcdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/cdc/internal/cdctest"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

// harness is a captured test database, a broker, a registry, an emitter and
// a state store: the parts a capture runs with.
type harness struct {
	t     testing.TB
	env   *cdctest.Env
	db    string // connection string of the captured database
	name  string // database name
	em    *emit.Emitter
	st    *state.Store
	reg   *prometheus.Registry
	log   *slog.Logger
	conn  *pgx.Conn
	runMu sync.Mutex
	runs  []*run
}

// run is one Capture.Run in the background.
type run struct {
	c      *Capture
	reg    *prometheus.Registry // the capture's metrics
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func newHarness(t testing.TB, setup ...string) *harness {
	t.Helper()
	pgtest.RequireLogicalWAL(t, pgtest.Connect(t))
	db := pgtest.NewDatabase(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, env: cdctest.New(t), db: db, name: strings.TrimPrefix(u.Path, "/"),
		reg: prometheus.NewRegistry(), log: testlog.New(t, slog.LevelWarn)}
	// Runs before the database is dropped (cleanups run last first).
	t.Cleanup(h.cleanup)
	h.em = h.env.Emitter(emit.Options{})
	h.st = h.env.State("")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if h.conn, err = pgx.Connect(ctx, db); err != nil {
		t.Fatal(err)
	}
	h.exec(setup...)
	return h
}

func (h *harness) cleanup() {
	h.runMu.Lock()
	runs := h.runs
	h.runMu.Unlock()
	for _, r := range runs {
		h.stopRun(r)
	}
	if h.conn != nil {
		_ = h.conn.Close(context.Background())
	}
	dropSlots(h.t, h.name)
}

// dropSlots drops every replication slot of database name (a database with
// a slot cannot be dropped), ending the walsenders still using them.
func dropSlots(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Errorf("drop slots of %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	for ctx.Err() == nil {
		_, _ = admin.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active`, name)
		_, err := admin.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`, name)
		var n int
		if err2 := admin.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE database = $1`, name).Scan(&n); err2 == nil && n == 0 {
			return
		}
		_ = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("slots of %s still there at cleanup", name)
}

// config is a capture configuration for the harness's database with a slot
// name unique on the server.
func (h *harness) config(mut ...func(*Config)) Config {
	cfg := Config{
		Source: "shop", URL: h.db,
		Slot:           "riacho_" + strings.TrimPrefix(h.name, "riacho_test_"),
		Heartbeat:      -1,
		StatusInterval: 100 * time.Millisecond,
		ChunkSize:      100,
	}
	for _, m := range mut {
		m(&cfg)
	}
	return cfg
}

// start creates a capture and runs it until the test ends or stop.
func (h *harness) start(cfg Config) (*Capture, *run) {
	h.t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(cfg, h.em, h.st, h.log, reg)
	if err != nil {
		h.t.Fatal(err)
	}
	r := h.run(c)
	r.reg = reg
	return c, r
}

func (h *harness) run(c *Capture) *run {
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{c: c, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx) }()
	h.runMu.Lock()
	h.runs = append(h.runs, r)
	h.runMu.Unlock()
	return r
}

// stopRun cancels a run and returns what Run returned.
func (h *harness) stopRun(r *run) error {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(30 * time.Second):
			r.err = errors.New("capture did not stop within 30s")
			h.t.Error(r.err)
		}
	})
	return r.err
}

func (h *harness) exec(sql ...string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, s := range sql {
		if _, err := h.conn.Exec(ctx, s); err != nil {
			h.t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStreaming waits until the capture streams.
func waitStreaming(t testing.TB, c *Capture) {
	t.Helper()
	waitFor(t, 60*time.Second, "the capture to stream", func() bool {
		st := c.Status()
		if st.State == StateFailed {
			t.Fatalf("capture failed: %s", st.Error)
		}
		return st.State == StateStreaming
	})
}

// caughtUp waits until the slot confirmed the server's current position:
// everything written before the call was acknowledged by Kafka.
func (h *harness) caughtUp(c *Capture) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var target string
	// A transaction of its own, so the slot has something to confirm.
	if err := h.conn.QueryRow(ctx, "SELECT pg_logical_emit_message(true, 'test', 'x')::text").Scan(&target); err != nil {
		h.t.Fatal(err)
	}
	waitFor(h.t, 60*time.Second, "the capture to confirm "+target, func() bool {
		return lsnAtLeast(c.Status().ConfirmedLSN, target)
	})
}

func lsnAtLeast(a, b string) bool {
	var ah, al, bh, bl uint64
	if _, err := fmt.Sscanf(a, "%X/%X", &ah, &al); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%X/%X", &bh, &bl); err != nil {
		return false
	}
	return ah<<32|al >= bh<<32|bl
}

// topic is the topic of public.<table> for source shop.
func topic(table string) string { return "raw.shop.public." + table }

// ops is the op sequence of changes ("~" for a tombstone).
func opsOf(cs []cdctest.Change) string {
	var b strings.Builder
	for _, c := range cs {
		if c.Op() == "" {
			b.WriteByte('~')
		} else {
			b.WriteString(c.Op())
		}
	}
	return b.String()
}

func (h *harness) readAll(table string) []cdctest.Change {
	h.t.Helper()
	return h.env.ReadAll(topic(table))
}
