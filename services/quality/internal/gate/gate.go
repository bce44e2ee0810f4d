package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

// Gate runs every model's suites, each model in a loop of its own.
type Gate struct {
	cfg     Config
	deps    Deps
	metrics *metrics
	admin   *kgo.Client
	runners []*runner
	keys    *keySets
}

// New checks cfg and groups the suites by model; Run starts the loops.
func New(cfg Config, deps Deps, suites []*suite.Suite) (*Gate, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Registry == nil {
		return nil, errors.New("quality gate: no schema registry client")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	ts, err := targets(suites)
	if err != nil {
		return nil, err
	}
	g := &Gate{cfg: cfg, deps: deps}
	if g.metrics, err = newMetrics(deps.Registerer); err != nil {
		return nil, fmt.Errorf("quality metrics: %w", err)
	}
	for _, t := range ts {
		g.runners = append(g.runners, newRunner(g, t))
	}
	g.keys = newKeySets(ts)
	if g.admin, err = kafka.NewClient(deps.Kafka); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *Gate) now() time.Time { return g.deps.Now() }

// Run creates the curated, quarantine and results topics and runs every
// model's loop until ctx ends.
func (g *Gate) Run(ctx context.Context) error {
	defer g.admin.Close()
	specs := []kafka.TopicSpec{{Name: g.cfg.ResultsTopic, Partitions: 1}}
	for _, r := range g.runners {
		specs = append(specs,
			kafka.TopicSpec{Name: curatedTopic(r.t.name), Partitions: g.cfg.OutputPartitions},
			kafka.TopicSpec{Name: quarantineTopic(r.t.name), Partitions: g.cfg.OutputPartitions})
	}
	if err := kafka.EnsureTopics(ctx, g.admin, specs...); err != nil {
		return fmt.Errorf("create quality topics: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.keys.follow(ctx, g)
	}()
	for _, r := range g.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// ModelStatus is one model's gate progress.
type ModelStatus struct {
	Model, State, LastError  string
	Suites                   []string
	In, Curated, Quarantined int64
	Results                  int64
	Latest                   map[string]expect.SuiteResult // newest window result per suite
}

// Status returns every model's progress, sorted by model.
func (g *Gate) Status() []ModelStatus {
	out := make([]ModelStatus, 0, len(g.runners))
	for _, r := range g.runners {
		r.mu.Lock()
		st := ModelStatus{Model: r.t.name, State: r.state, LastError: r.lastErr, Latest: map[string]expect.SuiteResult{}}
		for k, v := range r.latest {
			st.Latest[k] = v
		}
		r.mu.Unlock()
		for _, s := range r.t.suites {
			st.Suites = append(st.Suites, s.Name)
		}
		sort.Strings(st.Suites)
		st.In, st.Curated, st.Quarantined, st.Results = r.in.Load(), r.curated.Load(), r.quarantined.Load(), r.results.Load()
		out = append(out, st)
	}
	return out
}
