package app

import (
	"context"

	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/services/transform/internal/project"
)

// newLineage builds the OpenLineage emitter (nil when lineage is off).
func newLineage(cfg Config, deps Deps) (*lineage.Emitter, error) {
	return lineage.New(cfg.Lineage, lineage.Options{
		Service: "transform", Version: deps.Version, Kafka: cfg.Kafka, Logger: deps.Logger, Registerer: deps.Registry,
	})
}

// modelWindows gives every model a job "transform.<model>" whose runs
// group its transactions: a run starts (START) with the first batch
// committed after the previous run ended and completes (COMPLETE, with the
// records written since its START) RIACHO_LINEAGE_INTERVAL later or at
// shutdown; a failing model loop ends it with FAIL. Empty when lineage is
// off.
func modelWindows(em *lineage.Emitter, brokers []string, models []*project.Model) map[string]*lineage.Window {
	if em == nil {
		return nil
	}
	out := make(map[string]*lineage.Window, len(models))
	for _, m := range models {
		inputs := make([]lineage.Dataset, 0, len(m.Inputs))
		for _, in := range m.Inputs {
			inputs = append(inputs, lineage.KafkaTopic(brokers, in.Topic))
		}
		out[m.Name] = em.Window("transform."+m.Name, inputs,
			[]lineage.Dataset{lineage.KafkaTopic(brokers, m.OutputTopic)}, em.Interval())
	}
	return out
}

// lineageBatch adds a committed batch to its model's run.
func (s *Service) lineageBatch(model string, _, out int64) {
	s.windows[model].Add(lineage.Stats{Rows: out})
}

// lineageFailure fails its model's run.
func (s *Service) lineageFailure(model string, err error) {
	s.windows[model].Fail(err)
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
