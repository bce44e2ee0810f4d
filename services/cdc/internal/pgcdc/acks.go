package pgcdc

import (
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
)

// txnAck is one unit of ordered acknowledgement: a transaction (or a
// snapshot chunk emitted in the stream). Its records may be produced in
// several batches; it is complete once closed and every batch was acked.
type txnAck struct {
	end         pglogrepl.LSN // position to confirm once acked; 0 confirms nothing new
	commit      time.Time     // source commit time, for the lag in seconds
	outstanding int
	closed      bool
	onAcked     func() // runs (without the tracker's lock) when the unit is acked
}

// ackTracker advances the confirmed position only over units whose every
// record Kafka acknowledged, in the order the units were opened.
type ackTracker struct {
	mu        sync.Mutex
	queue     []*txnAck // open or unacknowledged units, oldest first
	head      int
	confirmed pglogrepl.LSN
	err       error         // first produce failure; the confirmed position stops there
	idle      chan struct{} // closed and replaced whenever the queue empties
}

func newAckTracker(start pglogrepl.LSN) *ackTracker {
	return &ackTracker{confirmed: start, idle: make(chan struct{})}
}

// open starts a unit; records produced for it are counted with add.
func (a *ackTracker) open(commit time.Time) *txnAck {
	t := &txnAck{commit: commit}
	a.mu.Lock()
	a.queue = append(a.queue, t)
	a.mu.Unlock()
	return t
}

// add counts one more batch of t in flight.
func (a *ackTracker) add(t *txnAck) {
	a.mu.Lock()
	t.outstanding++
	a.mu.Unlock()
}

// done records the outcome of one batch of t.
func (a *ackTracker) done(t *txnAck, err error) {
	a.mu.Lock()
	t.outstanding--
	if err != nil && a.err == nil {
		a.err = err
	}
	run := a.advanceLocked()
	a.mu.Unlock()
	for _, f := range run {
		f()
	}
}

// close marks t complete: no more batches; end is the position confirmed
// once t and every unit before it are acked (0: none of its own).
func (a *ackTracker) close(t *txnAck, end pglogrepl.LSN) {
	a.mu.Lock()
	t.end = end
	t.closed = true
	run := a.advanceLocked()
	a.mu.Unlock()
	for _, f := range run {
		f()
	}
}

func (a *ackTracker) advanceLocked() []func() {
	var run []func()
	if a.err != nil {
		return nil
	}
	for a.head < len(a.queue) {
		t := a.queue[a.head]
		if !t.closed || t.outstanding > 0 {
			break
		}
		a.queue[a.head] = nil
		a.head++
		if t.end > a.confirmed {
			a.confirmed = t.end
		}
		if t.onAcked != nil {
			run = append(run, t.onAcked)
		}
	}
	if a.head == len(a.queue) {
		a.queue = a.queue[:0]
		a.head = 0
		close(a.idle)
		a.idle = make(chan struct{})
	} else if a.head > 1024 && a.head*2 > len(a.queue) {
		n := copy(a.queue, a.queue[a.head:])
		clear(a.queue[n:])
		a.queue = a.queue[:n]
		a.head = 0
	}
	return run
}

// state returns the confirmed position, whether nothing is pending, the
// commit time of the oldest pending unit, and the first produce failure.
func (a *ackTracker) state() (confirmed pglogrepl.LSN, empty bool, oldest time.Time, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	empty = a.head == len(a.queue)
	if !empty {
		oldest = a.queue[a.head].commit
	}
	return a.confirmed, empty, oldest, a.err
}

// advanceIdle moves the confirmed position to lsn when nothing is pending:
// a keepalive's WAL end once every event before it was acknowledged.
func (a *ackTracker) advanceIdle(lsn pglogrepl.LSN) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil || a.head != len(a.queue) || lsn <= a.confirmed {
		return false
	}
	a.confirmed = lsn
	return true
}

// wait returns a channel closed when the queue next becomes empty (at once
// when it is empty now) and whether it is empty now.
func (a *ackTracker) wait() (<-chan struct{}, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.idle, a.head == len(a.queue)
}
