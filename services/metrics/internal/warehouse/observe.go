package warehouse

import "slices"

// OnLoad registers fn to be called after every load transaction: with the
// records applied per table when it committed (rows; err nil), or with the
// error when it failed and is about to be retried (rows nil). fn runs on
// the loading goroutine: keep it short. Register before Run.
func (l *Loader) OnLoad(fn func(rows map[string]int64, err error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onLoad = append(l.onLoad, fn)
}

// notifyLoad calls the OnLoad functions; batches are a committed
// transaction's tables, err a failed one's error.
func (l *Loader) notifyLoad(batches []*tableBatch, err error) {
	l.mu.Lock()
	fns := slices.Clone(l.onLoad)
	l.mu.Unlock()
	if len(fns) == 0 {
		return
	}
	var rows map[string]int64
	if err == nil {
		rows = make(map[string]int64, len(batches))
		for _, b := range batches {
			rows[b.t.Name] += int64(len(b.ops))
		}
	}
	for _, fn := range fns {
		fn(rows, err)
	}
}
