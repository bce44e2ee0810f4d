package lineage

import (
	"sync"
	"time"
)

// Window groups the many small commits of one job into runs: the first
// Add after a run ended starts a run (START), later Adds add to its
// output statistics, and the run completes (COMPLETE, with the statistics
// accumulated since its START) when the interval after its START has
// passed, when Complete is called, or at Close. Fail ends the open run
// with FAIL. A nil *Window does nothing. Its methods are safe for
// concurrent use.
type Window struct {
	e        *Emitter
	job      string
	inputs   []Dataset
	outputs  []Dataset
	interval time.Duration

	mu     sync.Mutex
	run    *Run
	stats  []Stats
	timer  *time.Timer
	closed bool
}

// Window returns the windowed runs of job; interval 0 means runs end only
// through Complete, Fail or Close. It is nil when e is nil.
func (e *Emitter) Window(job string, inputs, outputs []Dataset, interval time.Duration) *Window {
	if e == nil {
		return nil
	}
	return &Window{e: e, job: job, inputs: inputs, outputs: outputs, interval: interval}
}

// Add records one commit: stats[i] is what it wrote to the i-th output.
func (w *Window) Add(stats ...Stats) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.run == nil {
		w.begin()
	}
	for i := range min(len(stats), len(w.stats)) {
		w.stats[i] = w.stats[i].Add(stats[i])
	}
}

// begin starts a run; w.mu is held.
func (w *Window) begin() {
	r := w.e.Start(w.job, w.inputs, w.outputs)
	w.run, w.stats = r, make([]Stats, len(w.outputs))
	if w.interval > 0 {
		w.timer = time.AfterFunc(w.interval, func() { w.expire(r) })
	}
}

// expire completes r if it is still the open run.
func (w *Window) expire(r *Run) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.run == r {
		w.end(nil)
	}
}

// end completes (err nil) or fails the open run; w.mu is held.
func (w *Window) end(err error) {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if err != nil {
		w.run.Fail(err)
	} else {
		w.run.Complete(w.stats...)
	}
	w.run, w.stats = nil, nil
}

// Complete ends the open run now, if there is one.
func (w *Window) Complete() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.run != nil {
		w.end(nil)
	}
}

// Fail ends the open run with FAIL and err; with no run open it starts one
// to fail, so that every error shows.
func (w *Window) Fail(err error) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.run == nil {
		w.begin()
	}
	w.end(err)
}

// Close completes the open run and ignores later calls.
func (w *Window) Close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.run != nil {
		w.end(nil)
	}
	w.closed = true
}
