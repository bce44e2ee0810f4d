package app

import (
	"context"
	"errors"

	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/services/sink/internal/engine"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// newLineage builds the OpenLineage emitter (nil when lineage is off).
func newLineage(cfg Config, deps Deps) (*lineage.Emitter, error) {
	return lineage.New(cfg.Lineage, lineage.Options{
		Service: "sink", Version: deps.Version, Kafka: cfg.Kafka, Logger: deps.Logger, Registerer: deps.Registry,
	})
}

// commitRuns is the engine hook that makes every table commit one run of
// the job "sink.<table>": START as the range's files are committed, then
// COMPLETE with the rows, Parquet bytes and files added; FAIL when the
// commit failed; ABORT when the range was dropped without a failure (the
// table already had it, a gap, shutdown) and is read again. Nil when
// lineage is off, so the engine does nothing.
func commitRuns(em *lineage.Emitter, brokers []string, lakeURL string) func(topic, tbl string) func(engine.CommitOutcome) {
	if em == nil {
		return nil
	}
	return func(topic, tbl string) func(engine.CommitOutcome) {
		r := em.Start("sink."+tbl,
			[]lineage.Dataset{lineage.KafkaTopic(brokers, topic)},
			[]lineage.Dataset{lineage.LakeTable(lakeURL, tbl)})
		return func(o engine.CommitOutcome) {
			switch {
			case o.Err == nil:
				r.Complete(lineage.Stats{Rows: o.Records, Bytes: o.Bytes, Files: o.Files})
			case errors.Is(o.Err, table.ErrAlreadyCommitted), errors.Is(o.Err, table.ErrGap), errors.Is(o.Err, context.Canceled):
				r.Abort()
			default:
				r.Fail(o.Err)
			}
		}
	}
}

// closeLineage sends the queued events, bounded by the shutdown timeout.
func (s *Service) closeLineage() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.lineage.Close(ctx); err != nil {
		s.log.Warn("lineage events left unsent at shutdown", "error", err)
	}
}
