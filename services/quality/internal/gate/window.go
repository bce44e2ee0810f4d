package gate

import (
	"time"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// window accumulates the rows of one tumbling window of record timestamps.
type window struct {
	start time.Time // inclusive
	size  time.Duration
	rows  []map[string]any
	cols  map[string]bool
}

// newWindow opens the window of ts; a late record (ts before closedEnd,
// the end of the last window published) opens the window at closedEnd
// instead, so no window is published twice.
func newWindow(ts, closedEnd time.Time, size time.Duration) *window {
	start := ts.UTC().Truncate(size)
	if start.Before(closedEnd) {
		start = closedEnd.UTC()
	}
	return &window{start: start, size: size, cols: map[string]bool{}}
}

// end is the window's exclusive end.
func (w *window) end() time.Time { return w.start.Add(w.size) }

func (w *window) add(row map[string]any) {
	w.rows = append(w.rows, row)
	for k := range row {
		w.cols[k] = true
	}
}

// batch is the window as the expectations see it.
func (w *window) batch() *expect.Batch {
	cols := make([]string, 0, len(w.cols))
	for c := range w.cols {
		cols = append(cols, c)
	}
	return &expect.Batch{Columns: cols, Rows: w.rows}
}

// clone copies the window so a batch can extend it and be thrown away if
// its transaction aborts.
func (w *window) clone() *window {
	c := &window{start: w.start, size: w.size, rows: append([]map[string]any(nil), w.rows...), cols: make(map[string]bool, len(w.cols))}
	for k := range w.cols {
		c.cols[k] = true
	}
	return c
}
