package app

import (
	"context"

	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/services/quality/internal/gate"
)

// newLineage builds the OpenLineage emitter (nil when lineage is off).
func newLineage(cfg Config, deps Deps) (*lineage.Emitter, error) {
	return lineage.New(cfg.Lineage, lineage.Options{
		Service: "quality", Version: deps.Version, Kafka: cfg.Kafka, Logger: deps.Logger, Registerer: deps.Registry,
	})
}

// modelWindows gives every gated model a job "quality.<model>" with one
// run per validation window: START with the first batch committed after
// the previous window's results, COMPLETE with the batch that publishes
// the window's results (counting the records each run sent to curated and
// quarantine), FAIL when the model's gate loop fails (validation cannot
// run). Runs still open complete at shutdown. Empty when lineage is off.
func modelWindows(em *lineage.Emitter, brokers []string, models []gate.ModelStatus) map[string]*lineage.Window {
	if em == nil {
		return nil
	}
	out := make(map[string]*lineage.Window, len(models))
	for _, m := range models {
		out[m.Model] = em.Window("quality."+m.Model,
			[]lineage.Dataset{lineage.KafkaTopic(brokers, "staging."+m.Model)},
			[]lineage.Dataset{lineage.KafkaTopic(brokers, "curated."+m.Model), lineage.KafkaTopic(brokers, "quarantine."+m.Model)},
			0)
	}
	return out
}

// lineageCommit adds a committed batch to its model's run and completes
// the run when the batch closed a window.
func (s *Service) lineageCommit(model string, curated, quarantined int64, windowsClosed int) {
	w := s.windows[model]
	w.Add(lineage.Stats{Rows: curated}, lineage.Stats{Rows: quarantined})
	if windowsClosed > 0 {
		w.Complete()
	}
}

// onGateError fails the model's run, then alerts (onError).
func (s *Service) onGateError(model string, err error) {
	s.windows[model].Fail(err)
	s.onError(model, err)
}

// closeLineage completes the open runs and sends the queued events,
// bounded by the shutdown timeout.
func (s *Service) closeLineage() {
	for _, w := range s.windows {
		w.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.lineage.Close(ctx); err != nil {
		s.log.Warn("lineage events left unsent at shutdown", "error", err)
	}
}
