package pgcdc

import (
	"context"
	"time"

	"github.com/jackc/pglogrepl"
)

// background runs beside the stream: the lag poll (every StatusInterval),
// the heartbeat, and the search for new tables to capture.
func (s *session) background(ctx context.Context) {
	lag := time.NewTicker(s.cfg.StatusInterval)
	defer lag.Stop()
	var hb <-chan time.Time
	if s.cfg.Heartbeat > 0 {
		t := time.NewTicker(s.cfg.Heartbeat)
		defer t.Stop()
		hb = t.C
	}
	every := max(s.cfg.Heartbeat, time.Second)
	if s.cfg.Heartbeat <= 0 {
		every = 30 * time.Second
	}
	refresh := time.NewTicker(every)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lag.C:
			s.pollWAL(ctx)
		case <-hb:
			s.heartbeat(ctx)
		case <-refresh.C:
			if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("looking for new tables failed", "err", err)
			}
		}
	}
}

// pollWAL reads the server's current WAL position, for the lag in bytes.
func (s *session) pollWAL(ctx context.Context) {
	var text string
	if err := s.pool.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&text); err != nil {
		return
	}
	if lsn, err := pglogrepl.ParseLSN(text); err == nil {
		s.c.noteServerWAL(lsn)
	}
}

// heartbeat writes a transactional logical decoding message into the
// captured database: a transaction the slot sees even when no captured
// table changes, so the confirmed position follows the server's WAL.
func (s *session) heartbeat(ctx context.Context) {
	_, err := s.pool.Exec(ctx, "SELECT pg_logical_emit_message(true, '"+heartbeatPrefix+"', now()::text)")
	if err != nil && ctx.Err() == nil {
		s.log.Warn("heartbeat failed", "err", err)
	}
}

// refresh adds tables created since the start to the publication and, in
// initial snapshot mode, snapshots them (incrementally).
func (s *session) refresh(ctx context.Context) error {
	tables, err := s.discover(ctx)
	if err != nil {
		return err
	}
	var added []discovered
	for _, t := range tables {
		if _, ok := s.lookup(t.id()); !ok {
			added = append(added, t)
		}
	}
	if len(added) == 0 {
		return nil
	}
	if err := s.ensurePublication(ctx, tables); err != nil {
		return err
	}
	s.setTables(added)
	if s.cfg.Snapshot == SnapshotInitial {
		if err := s.markPending(ctx, added, "incremental", false); err != nil {
			return err
		}
		s.c.nudgeSnapshots()
	}
	for _, t := range added {
		s.log.Info("new table captured", "table", t.id())
	}
	return nil
}
