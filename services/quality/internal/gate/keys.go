package gate

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/quality/internal/expect"
)

// keySets follows the curated topics that dbt relationships tests point
// at and keeps, per "model.field", the set of keys seen there. A set joins
// Batch.Lookup once its topic has been read up to where it ended when the
// gate started; before that a relationships test reports an exception
// rather than a wrong verdict.
type keySets struct {
	mu    sync.RWMutex
	sets  map[string]map[string]bool
	ready map[string]bool
	want  map[string][]string // model -> fields
}

func newKeySets(ts []*target) *keySets {
	k := &keySets{sets: map[string]map[string]bool{}, ready: map[string]bool{}, want: map[string][]string{}}
	for _, t := range ts {
		for _, s := range t.suites {
			for _, e := range s.Expectations {
				if rel, ok := e.(expect.Relationship); ok {
					name := rel.ToModel() + "." + rel.Field()
					if _, seen := k.sets[name]; !seen {
						k.sets[name] = map[string]bool{}
						k.want[rel.ToModel()] = append(k.want[rel.ToModel()], rel.Field())
					}
				}
			}
		}
	}
	return k
}

// lookup runs fn with the ready key sets; fn must not keep the map.
func (k *keySets) lookup(fn func(map[string]map[string]bool)) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	view := make(map[string]map[string]bool, len(k.ready))
	for name := range k.ready {
		view[name] = k.sets[name]
	}
	fn(view)
}

// size is the number of keys of a set.
func (k *keySets) size(name string) int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.sets[name])
}

// follow reads each referenced model's curated topic until ctx ends.
func (k *keySets) follow(ctx context.Context, g *Gate) {
	var wg sync.WaitGroup
	for model, fields := range k.want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := k.followOne(ctx, g, model, fields); err != nil && ctx.Err() == nil {
					g.deps.Logger.Warn("following the keys of a curated topic failed; retrying", "model", model, "error", err)
					select {
					case <-ctx.Done():
					case <-time.After(g.cfg.RetryBackoff):
					}
				}
			}
		}()
	}
	wg.Wait()
}

func (k *keySets) followOne(ctx context.Context, g *Gate, model string, fields []string) error {
	topic := curatedTopic(model)
	ends, err := kadm.NewClient(g.admin).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return err
	}
	pending := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			pending[o.Partition] = o.Offset
		}
	})
	cl, err := kafka.NewClient(g.deps.Kafka, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	serde := avro.NewSerde(g.deps.Registry)
	k.markReady(model, fields, len(pending) == 0)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err := fetchErr(fs); err != nil {
			return err
		}
		var keys [][2]string
		for _, rec := range fs.Records() {
			if end, ok := pending[rec.Partition]; ok && rec.Offset+1 >= end {
				delete(pending, rec.Partition)
			}
			if rec.Attrs.IsControl() || rec.Value == nil {
				continue
			}
			native, _, err := serde.Decode(ctx, rec.Value)
			if err != nil {
				continue // quarantined upstream cases never reach curated; skip what cannot be read
			}
			row, ok := plainRecord(native)
			if !ok {
				continue
			}
			for _, f := range fields {
				if v, ok := row[f]; ok && v != nil {
					keys = append(keys, [2]string{model + "." + f, expect.Key(v)})
				}
			}
		}
		k.mu.Lock()
		for _, kv := range keys {
			k.sets[kv[0]][kv[1]] = true
		}
		k.mu.Unlock()
		k.markReady(model, fields, len(pending) == 0)
	}
}

func (k *keySets) markReady(model string, fields []string, done bool) {
	if !done {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, f := range fields {
		k.ready[model+"."+f] = true
	}
}
