package pgcdc

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

// Snapshot record states.
const (
	snapPending = "pending"
	snapDone    = "done"
)

// snapshotRecord is the state document of one table's snapshot
// ("pg/<source>/snapshot/<schema>.<table>").
type snapshotRecord struct {
	State string `json:"state"` // pending, done
	Mode  string `json:"mode"`  // initial, incremental
	// LastKey is the text of the key columns of the last row whose chunk
	// Kafka acknowledged; the snapshot resumes after it.
	LastKey [][]byte  `json:"last_key,omitempty"`
	Rows    int64     `json:"rows"`
	Gen     int64     `json:"gen"` // changes when a snapshot is requested again
	Updated time.Time `json:"updated"`
}

// Snapshot takes a snapshot of table ("schema.table") again while the
// stream goes on, chunk by chunk with watermarks (see the package
// documentation), and clears the table's failed mark. It returns once the
// request is recorded; Status reports the progress. A snapshot requested
// while Run is not running starts with the next Run.
func (c *Capture) Snapshot(ctx context.Context, table string) error {
	schema, name := splitTable(table)
	if !c.match.match(schema, name) {
		return fmt.Errorf("%w: %s", ErrUnknownTable, table)
	}
	id := schema + "." + name
	c.snapMu.Lock()
	err := c.st.Put(ctx, c.snapshotKey(id), snapshotRecord{State: snapPending, Mode: "incremental",
		Gen: time.Now().UnixNano(), Updated: time.Now().UTC()})
	c.snapMu.Unlock()
	if err != nil {
		return err
	}
	c.table(schema, name).clearFailure()
	c.log.Info("snapshot requested", "table", id)
	c.nudgeSnapshots()
	return nil
}

func (c *Capture) loadSnapshot(id string) (snapshotRecord, bool, error) {
	var rec snapshotRecord
	ok, err := c.st.Get(c.snapshotKey(id), &rec)
	return rec, ok, err
}

// putSnapshot records progress unless a newer request replaced the
// snapshot (then it returns false and records nothing).
func (c *Capture) putSnapshot(ctx context.Context, id string, rec snapshotRecord) (bool, error) {
	c.snapMu.Lock()
	defer c.snapMu.Unlock()
	cur, ok, err := c.loadSnapshot(id)
	if err != nil {
		return false, err
	}
	if ok && cur.Gen != rec.Gen {
		return false, nil
	}
	rec.Updated = time.Now().UTC()
	return true, c.st.Put(ctx, c.snapshotKey(id), rec)
}

// markPending records a pending snapshot of tables; without overwrite a
// table that has a record keeps it.
func (s *session) markPending(ctx context.Context, tables []discovered, mode string, overwrite bool) error {
	s.c.snapMu.Lock()
	defer s.c.snapMu.Unlock()
	gen := time.Now().UnixNano()
	for i, t := range tables {
		if !overwrite {
			if _, ok, err := s.c.loadSnapshot(t.id()); err != nil || ok {
				if err != nil {
					return err
				}
				continue
			}
		}
		rec := snapshotRecord{State: snapPending, Mode: mode, Gen: gen + int64(i), Updated: time.Now().UTC()}
		if err := s.c.st.Put(ctx, s.c.snapshotKey(t.id()), rec); err != nil {
			return err
		}
	}
	return nil
}

// selectSQL reads a table's columns in key order, after a key when after
// is set ($1.. are the key's text values), at most limit rows (0: all).
func (d *tableDesc) selectSQL(t discovered, after bool, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range d.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{c.name}.Sanitize())
	}
	b.WriteString(" FROM ")
	if !t.partitioned {
		b.WriteString("ONLY ") // inheritance children are published under their own names
	}
	b.WriteString(t.ident())
	if len(d.key) > 0 {
		if after {
			b.WriteString(" WHERE (")
			for i, k := range d.key {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(pgx.Identifier{d.cols[k].name}.Sanitize())
			}
			b.WriteString(") > (")
			for i, k := range d.key {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d::%s", i+1, d.cols[k].format)
			}
			b.WriteString(")")
		}
		b.WriteString(" ORDER BY ")
		for i, k := range d.key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pgx.Identifier{d.cols[k].name}.Sanitize())
		}
	}
	if limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", limit)
	}
	return b.String()
}

// readRows runs sql with text parameters and returns the rows as text
// (nil for NULL), which the pgtypes decoders read as they read pgoutput's.
func readRows(ctx context.Context, pc *pgconn.PgConn, sql string, params [][]byte, each func([][]byte) error) error {
	rr := pc.ExecParams(ctx, sql, params, nil, nil, nil)
	for rr.NextRow() {
		if err := each(rr.Values()); err != nil {
			_, _ = rr.Close()
			return err
		}
	}
	if _, err := rr.Close(); err != nil {
		return fmt.Errorf("read rows: %w", err)
	}
	return nil
}

// copyRow copies a row's values into one allocation.
func copyRow(src [][]byte) [][]byte {
	n := 0
	for _, v := range src {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(src))
	for i, v := range src {
		if v == nil {
			continue
		}
		start := len(buf)
		buf = append(buf, v...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

func (d *tableDesc) rowKey(row [][]byte) [][]byte {
	out := make([][]byte, len(d.key))
	for i, k := range d.key {
		out[i] = row[k]
	}
	return out
}

type pendingTable struct {
	t        discovered
	rec      snapshotRecord
	desc     *tableDesc
	nonEmpty bool
}

// initialSnapshot reads every pending table in the snapshot the new slot
// exported, so that together with the stream from the slot's consistent
// point each change is seen exactly once. Progress is recorded per chunk
// once Kafka acknowledged it; a snapshot cut short is finished by the
// incremental snapshotter after the next start (the exported snapshot is
// gone by then).
func (s *session) initialSnapshot(ctx context.Context, tables []discovered, name string, at pglogrepl.LSN) error {
	var todo []*pendingTable
	for _, t := range tables {
		rec, ok, err := s.c.loadSnapshot(t.id())
		if err != nil {
			return err
		}
		if ok && rec.State == snapPending {
			todo = append(todo, &pendingTable{t: t, rec: rec})
		}
	}
	if len(todo) == 0 {
		return nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("snapshot: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT "+quoteLiteral(name)); err != nil {
		return fmt.Errorf("snapshot: import the slot's snapshot %s: %w", name, err)
	}
	last := -1
	for i, p := range todo {
		if p.desc, err = s.describe(ctx, p.t); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+p.t.ident()+")").Scan(&p.nonEmpty); err != nil {
			return fmt.Errorf("snapshot: %s: %w", p.t.id(), err)
		}
		if p.nonEmpty {
			last = i
		}
	}
	started := time.Now()
	first := true
	for i, p := range todo {
		p.desc.ts.setSnapRunning(true)
		err := s.snapshotInTx(ctx, tx.Conn().PgConn(), p, &first, i == last, at)
		p.desc.ts.setSnapRunning(false)
		if err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("snapshot: commit: %w", err)
	}
	s.log.Info("initial snapshot done", "tables", len(todo), "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// snapshotInTx reads one table in chunks of ChunkSize rows within the
// slot's snapshot (keyset order on the key; a table without a key in one
// pass), produces each chunk and records its last key once acknowledged.
func (s *session) snapshotInTx(ctx context.Context, pc *pgconn.PgConn, p *pendingTable, first *bool, lastTable bool, at pglogrepl.LSN) error {
	d, rec := p.desc, p.rec
	id := p.t.id()
	if !p.nonEmpty {
		rec.State = snapDone
		_, err := s.c.putSnapshot(ctx, id, rec)
		return err
	}
	size := s.cfg.ChunkSize
	chunks := 0
	marker := func(j, n int, more bool) string {
		switch {
		case *first && j == 0:
			*first = false
			return "first"
		case lastTable && !more && j == n-1:
			return "last"
		}
		return "true"
	}
	if len(d.key) == 0 {
		var rows [][][]byte
		flush := func(more bool) error {
			n, err := s.produceSnapshotRows(ctx, d, rows, func(j int) string { return marker(j, len(rows), more) }, at)
			rec.Rows += int64(n)
			rows = rows[:0]
			return err
		}
		// Without a key a table cannot be read in resumable chunks: it is
		// read in one pass (and again from the start if cut short).
		var pending [][]byte
		err := readRows(ctx, pc, d.selectSQL(p.t, false, 0), nil, func(v [][]byte) error {
			if pending != nil {
				rows = append(rows, pending)
				if len(rows) >= size {
					if err := flush(true); err != nil {
						return err
					}
				}
			}
			pending = copyRow(v)
			return nil
		})
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", id, err)
		}
		if pending != nil {
			rows = append(rows, pending)
		}
		if err := flush(false); err != nil {
			return err
		}
		rec.State = snapDone
		_, err = s.c.putSnapshot(ctx, id, rec)
		return err
	}
	for {
		var rows [][][]byte
		sql := d.selectSQL(p.t, rec.LastKey != nil, size+1)
		if err := readRows(ctx, pc, sql, rec.LastKey, func(v [][]byte) error {
			rows = append(rows, copyRow(v))
			return nil
		}); err != nil {
			return fmt.Errorf("snapshot %s: %w", id, err)
		}
		more := len(rows) > size
		if more {
			rows = rows[:size]
		}
		if len(rows) > 0 {
			n, err := s.produceSnapshotRows(ctx, d, rows, func(j int) string { return marker(j, len(rows), more) }, at)
			if err != nil {
				return err
			}
			rec.Rows += int64(n)
			rec.LastKey = d.rowKey(rows[len(rows)-1])
		}
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
		if !ok || !more {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// produceSnapshotRows produces rows as op r events and waits for Kafka's
// acknowledgement; rows that cannot be decoded or encoded go to the
// dead-letter topic.
func (s *session) produceSnapshotRows(ctx context.Context, d *tableDesc, rows [][][]byte, marker func(int) string, at pglogrepl.LSN) (int, error) {
	recs := make([]*kgo.Record, 0, len(rows))
	now := time.Now().UnixMilli()
	n := 0
	for j, row := range rows {
		ev := s.snapshotEvent(d, marker(j), at, now)
		var err error
		if ev.After, err = d.decodeRow(row); err == nil && d.stream == nil {
			err = d.prepErr
		}
		var rs []*kgo.Record
		if err == nil {
			rs, err = d.stream.Records(ev)
		}
		if err != nil {
			if err := s.deadLetter(ctx, d, err, snapshotPayload(d, ev, row)); err != nil {
				return n, err
			}
			continue
		}
		recs = append(recs, rs...)
		d.ts.count(envelope.OpRead)
		n++
	}
	if err := s.c.em.ProduceSync(ctx, recs); err != nil {
		return n, fmt.Errorf("snapshot %s: %w", d.ts.id, err)
	}
	return n, nil
}

func (s *session) snapshotEvent(d *tableDesc, marker string, at pglogrepl.LSN, now int64) *envelope.Event {
	return &envelope.Event{Op: envelope.OpRead, TsMs: now, Source: envelope.SourceInfo{
		Version: envelope.Version, Connector: Connector, Name: s.cfg.Source, DB: s.db,
		Schema: d.ts.schema, Table: d.ts.name, TsMs: now, Snapshot: marker, LSN: lsnInt(at),
	}}
}

func snapshotPayload(d *tableDesc, ev *envelope.Event, row [][]byte) map[string]any {
	return map[string]any{"op": "r", "snapshot": ev.Source.Snapshot, "lsn": lsnText(ev.Source.LSN),
		"after": rowText(d, row)}
}
