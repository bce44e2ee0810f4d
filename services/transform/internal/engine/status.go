package engine

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/riacho/riacho/libs/kafka"
)

// ModelStatus is one model's progress.
type ModelStatus struct {
	Name, Path         string
	Input, Output      string // topics
	DependsOn          []string
	State              string // starting, running, failed
	Paused             bool
	LastError          string
	In, Out            int64 // records read and produced since start
	Duplicates         int64 // rows dropped by unique_key
	DeadLetters        int64
	Batches, Aborts    int64
	LastBatch          time.Time
	DuckDB, BatchTotal time.Duration // summed over batches
	// Lag is the model group's lag on its input (nil if not asked or
	// unavailable); LagTotal sums it.
	Lag      []kafka.Lag
	LagTotal int64
}

// Status returns every model's progress in the DAG's order, with the
// consumer lag of each when withLag.
func (e *Engine) Status(ctx context.Context, withLag bool) []ModelStatus {
	out := make([]ModelStatus, 0, len(e.order))
	var adm *kadm.Client
	if withLag {
		adm = kadm.NewClient(e.admin)
	}
	for _, r := range e.order {
		r.mu.Lock()
		st := ModelStatus{
			Name: r.m.Name, Path: r.m.Path, Input: r.in.Topic, Output: r.m.OutputTopic,
			DependsOn: r.m.DependsOn, State: r.state, Paused: r.paused, LastError: r.lastErr,
		}
		r.mu.Unlock()
		st.In, st.Out, st.Duplicates = r.in64.Load(), r.out64.Load(), r.dup64.Load()
		st.DeadLetters, st.Batches, st.Aborts = r.dead64.Load(), r.batches.Load(), r.txnAborts.Load()
		if ms := r.lastBatch.Load(); ms > 0 {
			st.LastBatch = time.UnixMilli(ms).UTC()
		}
		st.DuckDB, st.BatchTotal = time.Duration(r.duckNanos.Load()), time.Duration(r.batchNanos.Load())
		if adm != nil {
			if lags, err := kafka.GroupLag(ctx, adm, r.group); err == nil {
				st.Lag = lags
				for _, l := range lags {
					st.LagTotal += max(l.Lag, 0)
				}
			}
		}
		out = append(out, st)
	}
	return out
}
