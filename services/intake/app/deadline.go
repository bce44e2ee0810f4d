package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineGranularity is how far apart the start times of requests sharing a produce context
// may be, and so how much longer than the produce timeout a request may wait at most.
const deadlineGranularity = 10 * time.Millisecond

// produceDeadlines hands out the contexts requests wait for their acknowledgements under.
// Requests that start within the same deadlineGranularity share one context, which expires the
// produce timeout after the end of that window: each request waits at least the timeout and at
// most deadlineGranularity longer. A context.WithTimeout per request would cost a timer, a
// done channel and a registration with its parent on every request.
//
// The contexts do not end when the HTTP client goes away: records already handed to the
// producer are produced anyway, and the request still answers once they are acknowledged.
type produceDeadlines struct {
	base    context.Context
	timeout time.Duration
	epoch   time.Time // monotonic reference for the windows

	mu  sync.Mutex
	cur atomic.Pointer[deadlineWindow]
}

// deadlineWindow is the context of requests starting before end (since epoch).
type deadlineWindow struct {
	ctx    context.Context
	cancel context.CancelFunc // runs by itself at the deadline, or when base ends
	end    time.Duration
}

// newProduceDeadlines returns contexts derived from base (whose end cancels them all) that
// expire timeout after the requests sharing them started.
func newProduceDeadlines(base context.Context, timeout time.Duration) *produceDeadlines {
	return &produceDeadlines{base: base, timeout: timeout, epoch: time.Now()}
}

// context returns the produce context of a request starting now.
func (d *produceDeadlines) context() context.Context {
	now := time.Since(d.epoch)
	if w := d.cur.Load(); w != nil && now < w.end {
		return w.ctx
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.cur.Load(); w != nil && now < w.end {
		return w.ctx
	}
	w := &deadlineWindow{end: now + deadlineGranularity}
	// Created at or after now: expires at least timeout after every request of the window.
	w.ctx, w.cancel = context.WithTimeout(d.base, deadlineGranularity+d.timeout) //nolint:gosec // ends by its deadline or with base; requests of the window use it until then
	d.cur.Store(w)
	return w.ctx
}
