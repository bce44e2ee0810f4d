package pgcdc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

// Logical decoding message prefixes the capture writes.
const (
	heartbeatPrefix = "riacho.heartbeat"
	watermarkPrefix = "riacho.watermark"
)

// relation is a table as the stream's Relation message describes it.
type relation struct {
	id       uint32
	schema   string
	name     string
	captured bool
	msgCols  []*pglogrepl.RelationMessageColumn
	desc     *tableDesc // nil when not captured
}

// same reports whether m describes the columns r already has.
func (r *relation) same(m *pglogrepl.RelationMessage) bool {
	if r.schema != m.Namespace || r.name != m.RelationName || len(r.msgCols) != len(m.Columns) {
		return false
	}
	for i, c := range m.Columns {
		o := r.msgCols[i]
		if o.Name != c.Name || o.DataType != c.DataType || o.TypeModifier != c.TypeModifier {
			return false
		}
	}
	return true
}

// relation registers (or re-registers after DDL) a table of the stream. A
// changed shape forgets cached types, derives the table again and prepares
// it: a compatible change registers a new schema version without a restart.
func (s *session) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	old := s.rels[m.RelationID]
	if old != nil && old.same(m) {
		return nil
	}
	r := &relation{id: m.RelationID, schema: m.Namespace, name: m.RelationName,
		captured: s.c.match.match(m.Namespace, m.RelationName), msgCols: m.Columns}
	if !r.captured {
		s.rels[m.RelationID] = r
		return nil
	}
	if old != nil {
		s.catalog.Forget()
	}
	cols := make([]column, len(m.Columns))
	var flagged []string
	for i, c := range m.Columns {
		cols[i] = column{name: c.Name, oid: c.DataType, mod: c.TypeModifier}
		if c.Flags&1 != 0 {
			flagged = append(flagged, c.Name)
		}
	}
	key, err := s.tableKey(ctx, m.RelationID)
	if err != nil {
		return err
	}
	if len(key) == 0 && m.ReplicaIdentity == 'i' {
		key = flagged
	}
	ts := s.c.table(m.Namespace, m.RelationName)
	d, err := s.buildDesc(ctx, ts, m.RelationID, cols, key)
	if err != nil {
		return err
	}
	r.desc = d
	s.rels[m.RelationID] = r
	if old != nil && old.captured {
		s.log.Info("table shape changed", "table", ts.id, "columns", len(cols))
	}
	return nil
}

func (s *session) rel(id uint32) (*relation, error) {
	r := s.rels[id]
	if r == nil {
		return nil, fmt.Errorf("replication stream: change for relation %d before its Relation message", id)
	}
	return r, nil
}

// decodeTuple turns a pgoutput tuple into a row. A column the server did
// not send (unchanged TOAST, 'u') takes its value from fallback (the old
// row of a REPLICA IDENTITY FULL update) or, without one, is listed in
// unchanged. keyOnly keeps the key columns alone (an old key tuple).
func (d *tableDesc) decodeTuple(td, fallback *pglogrepl.TupleData, keyOnly bool) (envelope.Row, []string, error) {
	if td == nil {
		return nil, nil, nil
	}
	if len(td.Columns) > len(d.cols) {
		return nil, nil, fmt.Errorf("tuple has %d columns, relation %d", len(td.Columns), len(d.cols))
	}
	row := make(envelope.Row, len(td.Columns))
	var unchanged []string
	for i, c := range td.Columns {
		col := &d.cols[i]
		if keyOnly && !d.isKey(i) {
			continue
		}
		switch c.DataType {
		case pglogrepl.TupleDataTypeNull:
			row[col.name] = nil
		case pglogrepl.TupleDataTypeText:
			v, err := col.decode(c.Data)
			if err != nil {
				return nil, nil, fmt.Errorf("column %q: %w", col.name, err)
			}
			row[col.name] = v
		case pglogrepl.TupleDataTypeToast:
			if fallback != nil && i < len(fallback.Columns) && fallback.Columns[i].DataType == pglogrepl.TupleDataTypeText {
				v, err := col.decode(fallback.Columns[i].Data)
				if err != nil {
					return nil, nil, fmt.Errorf("column %q: %w", col.name, err)
				}
				row[col.name] = v
				continue
			}
			unchanged = append(unchanged, col.name)
		default:
			return nil, nil, fmt.Errorf("column %q: unexpected tuple data kind %q", col.name, c.DataType)
		}
	}
	return row, unchanged, nil
}

// decodeRow turns a snapshot row (text values, nil for NULL) into a row.
func (d *tableDesc) decodeRow(vals [][]byte) (envelope.Row, error) {
	row := make(envelope.Row, len(vals))
	for i, v := range vals {
		col := &d.cols[i]
		if v == nil {
			row[col.name] = nil
			continue
		}
		x, err := col.decode(v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", col.name, err)
		}
		row[col.name] = x
	}
	return row, nil
}

func (d *tableDesc) isKey(i int) bool {
	for _, k := range d.key {
		if k == i {
			return true
		}
	}
	return false
}

// tupleKey is the key text of a tuple; false when a key column is absent.
func (d *tableDesc) tupleKey(td *pglogrepl.TupleData) (string, bool) {
	return keyText(d.key, func(i int) ([]byte, bool) {
		if i >= len(td.Columns) || td.Columns[i].DataType != pglogrepl.TupleDataTypeText {
			return nil, false
		}
		return td.Columns[i].Data, true
	})
}

// keyChanged reports whether an update moved the row to another key.
func (d *tableDesc) keyChanged(old, new *pglogrepl.TupleData) bool {
	for _, k := range d.key {
		if k >= len(old.Columns) || k >= len(new.Columns) {
			return false
		}
		o, n := old.Columns[k], new.Columns[k]
		if n.DataType == pglogrepl.TupleDataTypeToast || o.DataType != pglogrepl.TupleDataTypeText {
			continue
		}
		if n.DataType != o.DataType || !bytes.Equal(o.Data, n.Data) {
			return true
		}
	}
	return false
}

// noteWindow records the keys a change touches while an incremental
// snapshot chunk of its table waits for its high watermark.
func (s *session) noteWindow(d *tableDesc, tuples ...*pglogrepl.TupleData) {
	ch := d.ts.window
	if ch == nil {
		return
	}
	for _, td := range tuples {
		if td == nil {
			continue
		}
		k, ok := d.tupleKey(td)
		if !ok {
			ch.dirty = true // a key the chunk cannot be reconciled with: read it again
			continue
		}
		ch.changed[k] = struct{}{}
	}
}

func (s *session) event(d *tableDesc, op envelope.Op, lsn pglogrepl.LSN) *envelope.Event {
	return &envelope.Event{Op: op, TsMs: time.Now().UnixMilli(), Source: envelope.SourceInfo{
		Version: envelope.Version, Connector: Connector, Name: s.cfg.Source, DB: s.db,
		Schema: d.ts.schema, Table: d.ts.name, TsMs: s.txnCommit, Snapshot: "false",
		LSN: lsnInt(lsn), TxID: int64(s.txnXid),
	}}
}

func (s *session) insert(ctx context.Context, m *pglogrepl.InsertMessage, lsn pglogrepl.LSN) error {
	r, err := s.rel(m.RelationID)
	if err != nil || !r.captured {
		return err
	}
	d := r.desc
	s.noteWindow(d, m.Tuple)
	ev := s.event(d, envelope.OpCreate, lsn)
	ev.After, ev.Unchanged, err = d.decodeTuple(m.Tuple, nil, false)
	if err != nil {
		return s.deadLetter(ctx, d, err, s.changePayload(d, ev, nil, m.Tuple))
	}
	return s.emit(ctx, d, ev, func() any { return s.changePayload(d, ev, nil, m.Tuple) })
}

func (s *session) update(ctx context.Context, m *pglogrepl.UpdateMessage, lsn pglogrepl.LSN) error {
	r, err := s.rel(m.RelationID)
	if err != nil || !r.captured {
		return err
	}
	d := r.desc
	s.noteWindow(d, m.OldTuple, m.NewTuple)
	var fallback *pglogrepl.TupleData
	if m.OldTupleType == pglogrepl.UpdateMessageTupleTypeOld {
		fallback = m.OldTuple
	}
	payload := func() any { return s.changePayload(d, &envelope.Event{Op: envelope.OpUpdate}, m.OldTuple, m.NewTuple) }
	after, unchanged, err := d.decodeTuple(m.NewTuple, fallback, false)
	if err != nil {
		return s.deadLetter(ctx, d, err, payload())
	}
	var before envelope.Row
	if m.OldTuple != nil {
		if before, _, err = d.decodeTuple(m.OldTuple, nil, m.OldTupleType == pglogrepl.UpdateMessageTupleTypeKey); err != nil {
			return s.deadLetter(ctx, d, err, payload())
		}
	}
	if m.OldTuple != nil && len(d.key) > 0 && d.keyChanged(m.OldTuple, m.NewTuple) {
		// The row moved to another key: a delete (and its tombstone) for
		// the old key, then a create for the new one, so compacted topics
		// forget the old key.
		del := s.event(d, envelope.OpDelete, lsn)
		del.Before = before
		if err := s.emit(ctx, d, del, payload); err != nil {
			return err
		}
		cr := s.event(d, envelope.OpCreate, lsn)
		cr.After, cr.Unchanged = after, unchanged
		return s.emit(ctx, d, cr, payload)
	}
	ev := s.event(d, envelope.OpUpdate, lsn)
	ev.Before, ev.After, ev.Unchanged = before, after, unchanged
	return s.emit(ctx, d, ev, payload)
}

func (s *session) delete(ctx context.Context, m *pglogrepl.DeleteMessage, lsn pglogrepl.LSN) error {
	r, err := s.rel(m.RelationID)
	if err != nil || !r.captured {
		return err
	}
	d := r.desc
	s.noteWindow(d, m.OldTuple)
	ev := s.event(d, envelope.OpDelete, lsn)
	ev.Before, _, err = d.decodeTuple(m.OldTuple, nil, m.OldTupleType == pglogrepl.DeleteMessageTupleTypeKey)
	if err != nil {
		return s.deadLetter(ctx, d, err, s.changePayload(d, ev, m.OldTuple, nil))
	}
	return s.emit(ctx, d, ev, func() any { return s.changePayload(d, ev, m.OldTuple, nil) })
}

func (s *session) truncate(ctx context.Context, m *pglogrepl.TruncateMessage, lsn pglogrepl.LSN) error {
	for _, id := range m.RelationIDs {
		r, err := s.rel(id)
		if err != nil {
			return err
		}
		if !r.captured {
			continue
		}
		d := r.desc
		if ch := d.ts.window; ch != nil {
			ch.dirty = true // rows the chunk read may be gone
		}
		ev := s.event(d, envelope.OpTruncate, lsn)
		if err := s.emit(ctx, d, ev, func() any { return s.changePayload(d, ev, nil, nil) }); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) logicalMessage(ctx context.Context, m *pglogrepl.LogicalDecodingMessage, lsn pglogrepl.LSN) error {
	switch m.Prefix {
	case heartbeatPrefix:
		s.c.heartbeats.Add(1)
		s.c.metrics.heartbeats.Inc()
	case watermarkPrefix:
		var w watermark
		// Another capture's watermarks (or a message not ours) are skipped.
		if json.Unmarshal(m.Content, &w) == nil && w.Source == s.cfg.Source {
			return s.watermark(ctx, w, lsn)
		}
	}
	return nil
}

// emit encodes ev into the current batch; a change that cannot be encoded
// (or whose table's schema the registry refused) goes to the dead-letter topic.
func (s *session) emit(ctx context.Context, d *tableDesc, ev *envelope.Event, payload func() any) error {
	if d.stream == nil {
		return s.deadLetter(ctx, d, d.prepErr, payload())
	}
	recs, err := d.stream.Records(ev)
	if err != nil {
		return s.deadLetter(ctx, d, err, payload())
	}
	s.batch = append(s.batch, recs...)
	d.ts.count(ev.Op)
	if len(s.batch) >= maxBatch {
		s.flush()
	}
	return nil
}

// deadLetter writes one change to the dead-letter topic (waiting for the
// acknowledgement, so it is durable before the slot moves past it) and
// marks its table failed. The other tables keep flowing.
func (s *session) deadLetter(ctx context.Context, d *tableDesc, reason error, payload any) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.c.em.DeadLetter(dctx, d.table, reason, payload); err != nil {
		return fmt.Errorf("dead-letter a change of %s: %w", d.ts.id, err)
	}
	if d.ts.failedText() == "" {
		s.log.Error("table failing: its changes go to the dead-letter topic", "table", d.ts.id, "err", reason)
	}
	d.ts.fail(reason, true)
	return nil
}

// changePayload is the dead-letter form of a change: its position and the
// column values as PostgreSQL printed them.
func (s *session) changePayload(d *tableDesc, ev *envelope.Event, old, new *pglogrepl.TupleData) map[string]any {
	return map[string]any{
		"op": ev.Op.String(), "lsn": lsnText(ev.Source.LSN), "txId": s.txnXid, "commit_ts_ms": s.txnCommit,
		"before": tupleText(d, old), "after": tupleText(d, new),
	}
}

// lsnInt is an LSN as source.lsn holds it (WAL positions stay below 2^63).
func lsnInt(l pglogrepl.LSN) int64 { return int64(l) } //nolint:gosec // see above

func lsnText(l int64) string { return pglogrepl.LSN(l).String() } //nolint:gosec // set from lsnInt

func tupleText(d *tableDesc, td *pglogrepl.TupleData) map[string]any {
	if td == nil {
		return nil
	}
	out := make(map[string]any, len(td.Columns))
	for i, c := range td.Columns {
		name := fmt.Sprintf("#%d", i)
		if i < len(d.cols) {
			name = d.cols[i].name
		}
		switch c.DataType {
		case pglogrepl.TupleDataTypeText:
			out[name] = string(c.Data)
		case pglogrepl.TupleDataTypeToast:
			out[name] = envelope.Unavailable
		default:
			out[name] = nil
		}
	}
	return out
}

func rowText(d *tableDesc, vals [][]byte) map[string]any {
	out := make(map[string]any, len(vals))
	for i, v := range vals {
		if v == nil {
			out[d.cols[i].name] = nil
		} else {
			out[d.cols[i].name] = string(v)
		}
	}
	return out
}
