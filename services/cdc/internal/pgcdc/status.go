package pgcdc

import (
	"time"

	"github.com/jackc/pglogrepl"
)

// Status is a capture's state for the Control Status verb.
type Status struct {
	State       string // idle, starting, snapshotting, streaming, paused, reconnecting, failed, stopped
	Error       string // why the last session ended, or the fatal error
	Source      string
	Slot        string
	Publication string
	// ConfirmedLSN is the last position reported to the server: every change
	// before it was acknowledged by Kafka.
	ConfirmedLSN string
	// ServerLSN is the newest server WAL position seen.
	ServerLSN string
	// LagBytes is ServerLSN - ConfirmedLSN.
	LagBytes int64
	// LagSeconds is the age of the oldest change read but not acknowledged (0 when caught up).
	LagSeconds float64
	Heartbeats int64
	Tables     []TableStatus
}

// TableStatus is one captured table's counts, failure and snapshot progress.
type TableStatus struct {
	Table       string           // schema.table
	Events      map[string]int64 // by op: c, u, d, r, t
	Failed      bool             // a change could not be written (see Error); cleared by Snapshot
	Error       string
	FailedAt    time.Time
	DeadLetters int64
	Snapshot    SnapshotStatus
}

// SnapshotStatus is a table's snapshot progress.
type SnapshotStatus struct {
	State   string // "" (none recorded), pending, running, done
	Mode    string // initial, incremental
	Rows    int64  // rows emitted so far
	LastKey []string
	Error   string // the last attempt's failure
}

// Status reports the capture's state.
func (c *Capture) Status() Status {
	c.mu.Lock()
	st := Status{State: c.stateName, Error: c.lastErr, Source: c.cfg.Source, Slot: c.cfg.Slot, Publication: c.cfg.Publication}
	tables := make([]*tableState, 0, len(c.order))
	for _, id := range c.order {
		tables = append(tables, c.tables[id])
	}
	c.mu.Unlock()
	st.ConfirmedLSN = pglogrepl.LSN(c.confirmed.Load()).String()
	st.ServerLSN = pglogrepl.LSN(c.serverWAL.Load()).String()
	st.LagBytes = c.lagBytes()
	st.LagSeconds = c.lagSeconds()
	st.Heartbeats = c.heartbeats.Load()
	for _, ts := range tables {
		t := TableStatus{Table: ts.id, Events: map[string]int64{}}
		for i, op := range ops {
			if n := ts.counts[i].Load(); n > 0 {
				t.Events[op.String()] = n
			}
		}
		ts.mu.Lock()
		t.Failed, t.Error, t.FailedAt, t.DeadLetters = ts.failed != "", ts.failed, ts.failedAt, ts.deadLetters
		running, snapErr := ts.snapRunning, ts.snapErr
		ts.mu.Unlock()
		if rec, ok, err := c.loadSnapshot(ts.id); err == nil && ok {
			t.Snapshot = SnapshotStatus{State: rec.State, Mode: rec.Mode, Rows: rec.Rows, Error: snapErr}
			for _, k := range rec.LastKey {
				t.Snapshot.LastKey = append(t.Snapshot.LastKey, string(k))
			}
			if running && rec.State == snapPending {
				t.Snapshot.State = "running"
			}
		}
		st.Tables = append(st.Tables, t)
	}
	return st
}

func (c *Capture) lagBytes() int64 {
	server, confirmed := c.serverWAL.Load(), c.confirmed.Load()
	if confirmed == 0 || server <= confirmed {
		return 0
	}
	return int64(server - confirmed) //nolint:gosec // WAL distances fit in int64
}

func (c *Capture) lagSeconds() float64 {
	t := c.tracker.Load()
	if t == nil {
		return 0
	}
	_, empty, oldest, _ := t.state()
	if empty || oldest.IsZero() {
		return 0
	}
	return max(time.Since(oldest).Seconds(), 0)
}
