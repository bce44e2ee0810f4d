package pgcdc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// watermark is the content of a riacho.watermark logical decoding message.
type watermark struct {
	Source string `json:"source"`
	Chunk  string `json:"chunk"`
	Kind   string `json:"kind"` // low, high
}

// chunk is one incremental snapshot chunk: rows read between a low and a
// high watermark, emitted when the stream reaches the high watermark minus
// the keys the stream changed in between.
type chunk struct {
	id   string
	ts   *tableState
	desc *tableDesc

	// Set by the snapshotter before it writes the high watermark (chunkMu).
	rows  [][][]byte
	xip   map[uint32]bool // transactions in progress for the chunk's snapshot
	ready bool

	// Stream goroutine only.
	lowSeen bool
	lowSeq  uint64              // transactions delivered before the low watermark
	changed map[string]struct{} // keys changed in the window
	dirty   bool                // the window cannot be reconciled: read the chunk again

	result chan chunkResult // buffered(1)
}

type chunkResult struct {
	emitted int
	retry   bool
}

func newChunkID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *session) addChunk(ch *chunk) {
	s.chunkMu.Lock()
	s.chunks[ch.id] = ch
	s.chunkMu.Unlock()
}

func (s *session) removeChunk(ch *chunk) {
	s.chunkMu.Lock()
	delete(s.chunks, ch.id)
	s.chunkMu.Unlock()
}

func (s *session) failChunks() {
	s.chunkMu.Lock()
	clear(s.chunks)
	s.chunkMu.Unlock()
}

// watermark handles a watermark of this capture seen in the stream.
func (s *session) watermark(ctx context.Context, w watermark, lsn pglogrepl.LSN) error {
	s.chunkMu.Lock()
	ch := s.chunks[w.Chunk]
	s.chunkMu.Unlock()
	if ch == nil {
		return nil // a chunk of an earlier session
	}
	switch w.Kind {
	case "low":
		ch.lowSeen = true
		ch.lowSeq = s.delivered
		ch.changed = map[string]struct{}{}
		ch.ts.window = ch
	case "high":
		return s.completeChunk(ctx, ch, lsn)
	}
	return nil
}

// completeChunk emits a chunk at its high watermark: every row whose key
// the stream did not change since the low watermark, as op r. Those rows
// are the table's state at the chunk's snapshot, and the changes after
// them come from the stream, so each key ends with its latest value.
//
// A transaction committed (in WAL order) before the low watermark may
// still have been invisible to the chunk's snapshot (its commit record
// written, not yet visible). If any transaction in the snapshot's
// in-progress list was delivered before the low watermark, the chunk is
// read again rather than risk emitting a value older than that change.
func (s *session) completeChunk(ctx context.Context, ch *chunk, lsn pglogrepl.LSN) error {
	if ch.ts.window == ch {
		ch.ts.window = nil
	}
	s.chunkMu.Lock()
	rows, xip, ready := ch.rows, ch.xip, ch.ready
	s.chunkMu.Unlock()
	retry := !ready || !ch.lowSeen || ch.dirty
	for xid := range xip {
		if seq, ok := s.recent.get(xid); ok && seq <= ch.lowSeq {
			retry = true
			break
		}
	}
	if retry {
		ch.result <- chunkResult{retry: true}
		return nil
	}
	if s.inTxn {
		s.flush() // the open transaction's records stay its own
	}
	saved := s.unit
	u := s.acks.open(time.Now())
	s.unit = u
	d := ch.desc
	now := time.Now().UnixMilli()
	n := 0
	for _, row := range rows {
		k, _ := keyText(d.key, func(i int) ([]byte, bool) { return row[i], row[i] != nil })
		if _, hit := ch.changed[k]; hit {
			continue
		}
		ev := s.snapshotEvent(d, "incremental", lsn, now)
		var err error
		if ev.After, err = d.decodeRow(row); err != nil {
			if err := s.deadLetter(ctx, d, err, snapshotPayload(d, ev, row)); err != nil {
				return err
			}
			continue
		}
		if err := s.emit(ctx, d, ev, func() any { return snapshotPayload(d, ev, row) }); err != nil {
			return err
		}
		n++
	}
	s.flush()
	u.onAcked = func() { ch.result <- chunkResult{emitted: n} }
	s.acks.close(u, 0)
	s.unit = saved
	return nil
}

// snapshotter runs the pending snapshots (initial ones cut short, new
// tables, requests) one table at a time while the stream goes on.
func (s *session) snapshotter(ctx context.Context) {
	skip := map[string]time.Time{}
	for {
		id, ok := s.nextPending(skip)
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-s.c.snapNudge:
			case <-time.After(30 * time.Second):
			}
			continue
		}
		ts := s.c.table(splitTable(id))
		ts.setSnapRunning(true)
		err := s.incremental(ctx, id)
		ts.setSnapRunning(false)
		if ctx.Err() != nil {
			return
		}
		ts.setSnapErr(err)
		if err != nil {
			s.log.Warn("snapshot failed; trying again later", "table", id, "err", err)
			skip[id] = time.Now().Add(30 * time.Second)
		}
	}
}

// nextPending is the first captured table with a pending snapshot.
func (s *session) nextPending(skip map[string]time.Time) (string, bool) {
	s.c.mu.Lock()
	order := append([]string(nil), s.c.order...)
	s.c.mu.Unlock()
	for _, id := range order {
		if until, ok := skip[id]; ok {
			if time.Now().Before(until) {
				continue
			}
			delete(skip, id)
		}
		if _, ok := s.lookup(id); !ok {
			continue
		}
		rec, ok, err := s.c.loadSnapshot(id)
		if err == nil && ok && rec.State == snapPending {
			return id, true
		}
	}
	return "", false
}

// incremental snapshots one table in chunks reconciled with the stream by
// watermarks (the DBLog method), resuming after the last acknowledged key.
func (s *session) incremental(ctx context.Context, id string) error {
	t, ok := s.lookup(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownTable, id)
	}
	rec, _, err := s.c.loadSnapshot(id)
	if err != nil {
		return err
	}
	d, err := s.describe(ctx, t)
	if err != nil {
		return err
	}
	if len(d.key) == 0 {
		return s.keylessSnapshot(ctx, t, d, rec)
	}
	s.log.Info("incremental snapshot", "table", id, "resume_after_rows", rec.Rows)
	chunks, retries := 0, 0
	for {
		ch := &chunk{id: newChunkID(), ts: d.ts, desc: d, result: make(chan chunkResult, 1)}
		s.addChunk(ch)
		res, rows, err := s.runChunk(ctx, ch, t, rec.LastKey)
		s.removeChunk(ch)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			rec.State = snapDone
			_, err := s.c.putSnapshot(ctx, id, rec)
			return err
		}
		if res.retry {
			if retries++; retries > 50 {
				return errors.New("chunk could not be reconciled with the stream after 50 tries")
			}
			continue
		}
		retries = 0
		rec.Rows += int64(res.emitted)
		rec.LastKey = d.rowKey(rows[len(rows)-1])
		more := len(rows) >= s.cfg.ChunkSize
		if !more {
			rec.State = snapDone
		}
		ok, err := s.c.putSnapshot(ctx, id, rec)
		if err != nil {
			return err
		}
		chunks++
		if hook := s.c.afterChunk; hook != nil {
			hook(id, chunks)
		}
		if !ok {
			s.log.Info("snapshot superseded by a new request", "table", id)
			return nil
		}
		if !more {
			s.log.Info("incremental snapshot done", "table", id, "rows", rec.Rows)
			return nil
		}
	}
}

// runChunk writes the low watermark, reads the chunk with its snapshot's
// in-progress list, writes the high watermark and waits for the stream to
// emit the chunk. It returns the rows read (none: the table is done).
func (s *session) runChunk(ctx context.Context, ch *chunk, t discovered, after [][]byte) (chunkResult, [][][]byte, error) {
	if err := s.writeWatermark(ctx, ch.id, "low"); err != nil {
		return chunkResult{}, nil, err
	}
	rows, xip, err := s.readChunk(ctx, ch.desc, t, after)
	if err != nil || len(rows) == 0 {
		return chunkResult{}, nil, err
	}
	s.chunkMu.Lock()
	ch.rows, ch.xip, ch.ready = rows, xip, true
	s.chunkMu.Unlock()
	if err := s.writeWatermark(ctx, ch.id, "high"); err != nil {
		return chunkResult{}, nil, err
	}
	select {
	case res := <-ch.result:
		return res, rows, nil
	case <-ctx.Done():
		return chunkResult{}, nil, ctx.Err()
	}
}

// writeWatermark writes a non-transactional logical decoding message. The
// statement also takes a transaction id, so its commit flushes the WAL and
// the walsender sees the message at once (an empty transaction is not
// sent by pgoutput).
func (s *session) writeWatermark(ctx context.Context, chunk, kind string) error {
	b, err := json.Marshal(watermark{Source: s.cfg.Source, Chunk: chunk, Kind: kind})
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, "SELECT pg_logical_emit_message(false, '"+watermarkPrefix+"', $1::text), pg_current_xact_id()", string(b)); err != nil {
		return fmt.Errorf("write %s watermark: %w", kind, err)
	}
	return nil
}

// readChunk reads up to ChunkSize rows after the key, in a repeatable read
// transaction whose snapshot's in-progress transactions it also returns.
func (s *session) readChunk(ctx context.Context, d *tableDesc, t discovered, after [][]byte) ([][][]byte, map[uint32]bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var snap string
	if err := tx.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&snap); err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	xip, err := parseSnapshot(snap)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	var rows [][][]byte
	err = readRows(ctx, tx.Conn().PgConn(), d.selectSQL(t, after != nil, s.cfg.ChunkSize), after, func(v [][]byte) error {
		rows = append(rows, copyRow(v))
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	return rows, xip, tx.Commit(ctx)
}

// parseSnapshot reads the in-progress list of a pg_snapshot
// ("xmin:xmax:xip,..."), as 32-bit transaction ids (what pgoutput sends).
func parseSnapshot(s string) (map[uint32]bool, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("snapshot %q: want xmin:xmax:xip", s)
	}
	out := map[uint32]bool{}
	if parts[2] == "" {
		return out, nil
	}
	for _, x := range strings.Split(parts[2], ",") {
		n, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("snapshot %q: %w", s, err)
		}
		out[uint32(n)] = true //nolint:gosec // the low 32 bits are the transaction id pgoutput sends
	}
	return out, nil
}

// keylessSnapshot reads a table without a key in one pass and produces it
// directly: rows cannot be matched with stream changes, so nothing is
// reconciled. No row is lost; a row changed during the pass may arrive
// both from the stream and from the snapshot, in either order. A pass cut
// short starts again from the beginning.
func (s *session) keylessSnapshot(ctx context.Context, t discovered, d *tableDesc, rec snapshotRecord) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var rows [][][]byte
	rec.Rows = 0
	flush := func() error {
		n, err := s.produceSnapshotRows(ctx, d, rows, func(int) string { return "incremental" }, 0)
		rec.Rows += int64(n)
		rows = rows[:0]
		return err
	}
	err = readRows(ctx, tx.Conn().PgConn(), d.selectSQL(t, false, 0), nil, func(v [][]byte) error {
		rows = append(rows, copyRow(v))
		if len(rows) >= s.cfg.ChunkSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", t.id(), err)
	}
	rec.State = snapDone
	_, err = s.c.putSnapshot(ctx, t.id(), rec)
	return err
}
