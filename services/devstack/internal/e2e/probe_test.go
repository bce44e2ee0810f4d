package e2e

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// probe notes when each deal first shows on the raw, staging and curated
// topics of fct_subscriptions, as a read_committed consumer sees them.
type probe struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	seen   map[string]map[string]time.Time // stage → deal id → first seen
}

// probeTopics maps each probed topic to its stage and the field holding
// the deal id.
var probeTopics = map[string][2]string{
	"raw.ploomes.deals":         {"raw", "resource_id"},
	"staging.fct_subscriptions": {"staging", "subscription_id"},
	"curated.fct_subscriptions": {"curated", "subscription_id"},
}

// startProbe consumes the probed topics from their start until stop.
func (h *harness) startProbe(ctx context.Context) (*probe, error) {
	topics := make([]string, 0, len(probeTopics))
	for t := range probeTopics {
		topics = append(topics, t)
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(h.opts.KafkaAddr),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &probe{cl: cl, cancel: cancel, done: make(chan struct{}), seen: map[string]map[string]time.Time{}}
	go p.run(ctx, h.reg)
	return p, nil
}

func (p *probe) run(ctx context.Context, reg *registryReader) {
	defer close(p.done)
	for ctx.Err() == nil {
		fs := p.cl.PollFetches(ctx)
		at := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				return
			}
			v, err := reg.decode(ctx, r.Value)
			if err != nil {
				return // the tests check decoding; the probe only times
			}
			spec := probeTopics[r.Topic]
			id := fieldText(v, spec[1])
			if !strings.HasPrefix(id, "8") || len(id) < 9 {
				return // not a benchmark deal
			}
			p.mu.Lock()
			if p.seen[spec[0]] == nil {
				p.seen[spec[0]] = map[string]time.Time{}
			}
			if _, ok := p.seen[spec[0]][id]; !ok {
				p.seen[spec[0]][id] = at
			}
			p.mu.Unlock()
		})
	}
}

// seenAt is when the deal first showed at stage.
func (p *probe) seenAt(stage, id string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.seen[stage][id]
	return t, ok
}

// stop ends the probe and closes its client.
func (p *probe) stop() {
	p.cancel()
	<-p.done
	p.cl.Close()
}
