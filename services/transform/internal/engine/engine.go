package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/transform/internal/mask"
	"github.com/riacho/riacho/services/transform/internal/project"
)

// ErrUnknownModel is returned for a model name the project does not have.
var ErrUnknownModel = errors.New("unknown model")

// ErrUnsupportedModel marks a model the streaming engine cannot run.
var ErrUnsupportedModel = errors.New("model not supported by the streaming engine")

// Engine runs every enabled model of a project, each in a loop of its own.
type Engine struct {
	cfg     Config
	deps    Deps
	proj    *project.Project
	metrics *metrics
	masker  *mask.Masker
	admin   *kgo.Client

	runners map[string]*runner
	order   []*runner
	wg      sync.WaitGroup
}

// New checks cfg and the project's models and connects the admin client;
// Run starts the loops.
func New(cfg Config, deps Deps, proj *project.Project) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Registry == nil {
		return nil, errors.New("transform engine: no schema registry client")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	e := &Engine{cfg: cfg, deps: deps, proj: proj, runners: map[string]*runner{}}
	var errs []error
	for _, m := range proj.Order {
		if !m.Config.Enabled {
			continue
		}
		if len(m.Inputs) != 1 {
			errs = append(errs, fmt.Errorf("%w: %s: model %s reads %d relations; each streamed model reads exactly one (a source or another model)",
				ErrUnsupportedModel, m.Path, m.Name, len(m.Inputs)))
			continue
		}
		if cfg.Masking && len(m.Config.Masking) > 0 && len(cfg.MaskKey) == 0 {
			errs = append(errs, fmt.Errorf("%s: model %s masks columns but no masking key is set (RIACHO_TRANSFORM_MASK_KEY or RIACHO_TRANSFORM_MASK_KEY_FILE)", m.Path, m.Name))
			continue
		}
		r := newRunner(e, m)
		e.runners[m.Name] = r
		e.order = append(e.order, r)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var err error
	if e.metrics, err = newMetrics(deps.Registerer); err != nil {
		return nil, fmt.Errorf("transform metrics: %w", err)
	}
	if cfg.Masking {
		e.masker = mask.NewMasker(cfg.MaskKey)
	}
	if e.admin, err = kafka.NewClient(deps.Kafka); err != nil {
		return nil, err
	}
	return e, nil
}

// Run ensures the output and dead-letter topics, then runs every model's
// loop (in the DAG's order) until ctx ends. A model that fails is retried
// on its own; Run returns when every loop has stopped.
func (e *Engine) Run(ctx context.Context) error {
	defer e.admin.Close()
	specs := []kafka.TopicSpec{{Name: e.cfg.DLQTopic}}
	for _, r := range e.order {
		specs = append(specs, kafka.TopicSpec{Name: r.m.OutputTopic, Partitions: max(r.m.Config.Partitions, e.cfg.OutputPartitions)})
	}
	if err := kafka.EnsureTopics(ctx, e.admin, specs...); err != nil {
		return fmt.Errorf("create output topics: %w", err)
	}
	for _, r := range e.order {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			r.run(ctx)
		}()
	}
	e.wg.Wait()
	return nil
}

// Models are the models run, in the DAG's order.
func (e *Engine) Models() []*project.Model {
	out := make([]*project.Model, len(e.order))
	for i, r := range e.order {
		out[i] = r.m
	}
	return out
}

func (e *Engine) runner(model string) (*runner, error) {
	r, ok := e.runners[model]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownModel, model)
	}
	return r, nil
}

// Pause stops reading input for model ("" pauses every model); the batch
// in flight still commits.
func (e *Engine) Pause(model string) error {
	return e.each(model, func(r *runner) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.paused {
			return
		}
		r.paused, r.resumeCh = true, make(chan struct{})
		if r.client != nil {
			r.client.PauseFetchTopics(r.in.Topic)
		}
		e.metrics.paused.WithLabelValues(r.m.Name).Set(1)
	})
}

// Resume undoes Pause for model ("" resumes every model).
func (e *Engine) Resume(model string) error {
	return e.each(model, func(r *runner) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !r.paused {
			return
		}
		r.paused = false
		close(r.resumeCh)
		if r.client != nil {
			r.client.ResumeFetchTopics(r.in.Topic)
		}
		e.metrics.paused.WithLabelValues(r.m.Name).Set(0)
	})
}

func (e *Engine) each(model string, fn func(*runner)) error {
	if model == "" {
		for _, r := range e.order {
			fn(r)
		}
		return nil
	}
	r, err := e.runner(model)
	if err != nil {
		return err
	}
	fn(r)
	return nil
}
