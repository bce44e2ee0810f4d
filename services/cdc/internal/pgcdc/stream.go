package pgcdc

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// stream reads the replication stream until ctx ends (nil) or it fails.
//
// One goroutine reads, decodes and produces; records are produced
// asynchronously and the ack tracker advances the confirmed position. The
// connection is read with context.Background and a socket deadline (the
// next standby status update), which keeps the hot path free of
// per-message context watching; ctx ending moves the deadline to now.
func (s *session) stream(ctx context.Context) error {
	nc := s.repl.Conn()
	var stopping atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		stopping.Store(true)
		_ = nc.SetReadDeadline(time.Now())
	})
	defer stop()
	interval := s.cfg.StatusInterval
	next := time.Now().Add(interval)
	_ = nc.SetReadDeadline(next)
	for {
		if stopping.Load() {
			return nil
		}
		if s.c.paused.Load() {
			if err := s.pause(ctx); err != nil {
				return err
			}
			next = time.Now().Add(interval)
			_ = nc.SetReadDeadline(next)
			continue
		}
		msg, err := s.repl.ReceiveMessage(context.Background())
		now := time.Now()
		if err != nil {
			if !pgconn.Timeout(err) {
				return fmt.Errorf("replication stream: %w", err)
			}
			if stopping.Load() {
				return nil
			}
		} else {
			switch m := msg.(type) {
			case *pgproto3.CopyData:
				if err := s.copyData(ctx, m.Data); err != nil {
					return err
				}
			case *pgproto3.ErrorResponse:
				return fmt.Errorf("replication stream: %w", pgconn.ErrorResponseToPgError(m))
			case *pgproto3.CopyDone:
				return errors.New("replication stream: the server ended it")
			}
		}
		if !now.Before(next) {
			if _, _, _, err := s.acks.state(); err != nil {
				return fmt.Errorf("kafka: %w", err)
			}
			if err := s.sendStatus(false); err != nil {
				return err
			}
			next = now.Add(interval)
			_ = nc.SetReadDeadline(next)
		}
	}
}

// pause stops reading until Resume or ctx ends; standby status updates go
// on so the server keeps the connection.
func (s *session) pause(ctx context.Context) error {
	s.c.setState(StatePaused, "")
	defer s.c.setState(StateStreaming, "")
	t := time.NewTicker(s.cfg.StatusInterval)
	defer t.Stop()
	for s.c.paused.Load() {
		select {
		case <-ctx.Done():
			return nil
		case <-s.c.resume:
		case <-t.C:
			if err := s.sendStatus(false); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendStatus reports the confirmed position: the end of the last
// transaction whose every record Kafka acknowledged.
func (s *session) sendStatus(reply bool) error {
	confirmed, _, _, _ := s.acks.state()
	if confirmed == 0 {
		return nil
	}
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), s.repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: confirmed, WALFlushPosition: confirmed, WALApplyPosition: confirmed,
		ReplyRequested: reply,
	})
	if err != nil {
		return fmt.Errorf("send standby status: %w", err)
	}
	s.c.confirmed.Store(uint64(confirmed))
	return nil
}

func (s *session) copyData(ctx context.Context, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("replication stream: keepalive: %w", err)
		}
		s.c.noteServerWAL(pkm.ServerWALEnd)
		// Nothing read is pending: every change before the server's WAL
		// end was acknowledged, and a transaction still open on the server
		// commits after it, so it is safe to confirm.
		if !s.inTxn {
			s.acks.advanceIdle(pkm.ServerWALEnd)
		}
		if pkm.ReplyRequested {
			return s.sendStatus(false)
		}
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("replication stream: %w", err)
		}
		return s.message(ctx, xld.WALStart, xld.WALData)
	}
	return nil
}

// parse decodes one pgoutput message; a malformed one is an error, never a panic.
func parse(data []byte, inStream bool) (msg pglogrepl.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("malformed pgoutput message %q: %v", firstByte(data), r)
		}
	}()
	if len(data) == 0 {
		return nil, errors.New("empty pgoutput message")
	}
	return pglogrepl.ParseV2(data, inStream)
}

func firstByte(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return string(b[:1])
}

// message handles one pgoutput message at WAL position lsn.
func (s *session) message(ctx context.Context, lsn pglogrepl.LSN, data []byte) error {
	msg, err := parse(data, s.inStream)
	if err != nil {
		return fmt.Errorf("replication stream at %s: %w", lsn, err)
	}
	switch m := msg.(type) {
	case *pglogrepl.StreamStartMessageV2:
		s.inStream = true
		s.streamXid = m.Xid
		if s.streamed[m.Xid] == nil {
			s.streamed[m.Xid] = &streamedTxn{}
		}
		return nil
	case *pglogrepl.StreamStopMessageV2:
		s.inStream = false
		return nil
	case *pglogrepl.StreamCommitMessageV2:
		return s.streamCommit(ctx, m)
	case *pglogrepl.StreamAbortMessageV2:
		s.streamAbort(m)
		return nil
	}
	if s.inStream {
		s.bufferStreamed(msg, lsn)
		return nil
	}
	return s.apply(ctx, msg, lsn)
}

// apply handles a message of a committed transaction (or one outside any).
func (s *session) apply(ctx context.Context, msg pglogrepl.Message, lsn pglogrepl.LSN) error {
	switch m := msg.(type) {
	case *pglogrepl.BeginMessage:
		s.begin(m.Xid, m.CommitTime)
	case *pglogrepl.CommitMessage:
		s.commit(m.TransactionEndLSN)
	case *pglogrepl.RelationMessageV2:
		return s.relation(ctx, &m.RelationMessage)
	case *pglogrepl.InsertMessageV2:
		return s.insert(ctx, &m.InsertMessage, lsn)
	case *pglogrepl.UpdateMessageV2:
		return s.update(ctx, &m.UpdateMessage, lsn)
	case *pglogrepl.DeleteMessageV2:
		return s.delete(ctx, &m.DeleteMessage, lsn)
	case *pglogrepl.TruncateMessageV2:
		return s.truncate(ctx, &m.TruncateMessage, lsn)
	case *pglogrepl.LogicalDecodingMessageV2:
		return s.logicalMessage(ctx, &m.LogicalDecodingMessage, lsn)
	}
	// Type and Origin messages carry nothing the capture needs.
	return nil
}

func (s *session) begin(xid uint32, commit time.Time) {
	s.inTxn = true
	s.txnXid = xid
	s.txnCommit = commit.UnixMilli()
	s.unit = s.acks.open(commit)
}

func (s *session) commit(end pglogrepl.LSN) {
	if !s.inTxn {
		return
	}
	s.flush()
	s.acks.close(s.unit, end)
	s.inTxn = false
	s.unit = nil
	s.delivered++
	s.recent.add(s.txnXid, s.delivered)
}

// flush produces the batch for the current unit.
func (s *session) flush() {
	if len(s.batch) == 0 {
		return
	}
	u := s.unit
	s.acks.add(u)
	s.c.em.Produce(s.pctx, s.batch, func(err error) { s.acks.done(u, err) })
	s.batch = s.batch[:0]
}

// streamedTxn buffers an in-progress transaction streamed before its commit.
type streamedTxn struct {
	msgs []streamedMsg
}

type streamedMsg struct {
	msg pglogrepl.Message
	lsn pglogrepl.LSN
	xid uint32 // the (sub)transaction the change belongs to
}

func (s *session) bufferStreamed(msg pglogrepl.Message, lsn pglogrepl.LSN) {
	t := s.streamed[s.streamXid]
	if t == nil {
		t = &streamedTxn{}
		s.streamed[s.streamXid] = t
	}
	xid := s.streamXid
	switch m := msg.(type) {
	case *pglogrepl.InsertMessageV2:
		xid = m.Xid
	case *pglogrepl.UpdateMessageV2:
		xid = m.Xid
	case *pglogrepl.DeleteMessageV2:
		xid = m.Xid
	case *pglogrepl.TruncateMessageV2:
		xid = m.Xid
	case *pglogrepl.LogicalDecodingMessageV2:
		xid = m.Xid
		m.Content = append([]byte(nil), m.Content...) // it points into the receive buffer
	}
	t.msgs = append(t.msgs, streamedMsg{msg: msg, lsn: lsn, xid: xid})
}

// streamCommit replays a streamed transaction as if it had just been sent whole.
func (s *session) streamCommit(ctx context.Context, m *pglogrepl.StreamCommitMessageV2) error {
	t := s.streamed[m.Xid]
	delete(s.streamed, m.Xid)
	s.begin(m.Xid, m.CommitTime)
	if t != nil {
		for i := range t.msgs {
			if err := s.apply(ctx, t.msgs[i].msg, t.msgs[i].lsn); err != nil {
				return err
			}
			t.msgs[i].msg = nil
		}
	}
	s.commit(m.TransactionEndLSN)
	return nil
}

// streamAbort drops a streamed transaction, or the changes of one of its
// aborted subtransactions.
func (s *session) streamAbort(m *pglogrepl.StreamAbortMessageV2) {
	if m.SubXid == m.Xid || m.SubXid == 0 {
		delete(s.streamed, m.Xid)
		return
	}
	t := s.streamed[m.Xid]
	if t == nil {
		return
	}
	kept := t.msgs[:0]
	for _, e := range t.msgs {
		if e.xid != m.SubXid {
			kept = append(kept, e)
		}
	}
	clear(t.msgs[len(kept):])
	t.msgs = kept
}

// xidRing remembers the last transactions delivered and their order.
type xidRing struct {
	ring []uint32
	next int
	seq  map[uint32]uint64
}

func newXidRing(n int) *xidRing {
	return &xidRing{ring: make([]uint32, n), seq: make(map[uint32]uint64, n)}
}

func (r *xidRing) add(xid uint32, seq uint64) {
	if old := r.ring[r.next]; old != 0 {
		delete(r.seq, old)
	}
	r.ring[r.next] = xid
	r.next = (r.next + 1) % len(r.ring)
	r.seq[xid] = seq
}

// get returns the delivery sequence of xid if it is among the remembered.
func (r *xidRing) get(xid uint32) (uint64, bool) {
	s, ok := r.seq[xid]
	return s, ok
}
