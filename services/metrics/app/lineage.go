package app

import (
	"context"

	"github.com/riacho/riacho/libs/lineage"
)

// wireLineage makes the warehouse loader's transactions OpenLineage runs
// of the job "metrics.<RIACHO_METRICS_LOADER_CONSUMER>", reading the
// schema's curated topics and writing its warehouse tables: a run starts
// (START) with the first transaction committed after the previous run
// ended and completes (COMPLETE, with the records applied per table since
// its START) RIACHO_LINEAGE_INTERVAL later or at shutdown; a failed
// transaction ends it with FAIL (the loader retries it). Nothing is wired
// when lineage is off.
func (s *Service) wireLineage(cfg Config, deps Deps) error {
	em, err := lineage.New(cfg.Lineage, lineage.Options{
		Service: "metrics", Version: deps.Version, Kafka: cfg.Kafka, Logger: deps.Logger, Registerer: deps.Registry,
	})
	if err != nil || em == nil {
		return err
	}
	var inputs, outputs []lineage.Dataset
	index := make(map[string]int, len(s.schema.Tables))
	for _, t := range s.schema.Tables {
		inputs = append(inputs, lineage.KafkaTopic(cfg.Kafka.Brokers, t.Topic))
		index[t.Name] = len(outputs)
		outputs = append(outputs, lineage.WarehouseTable(string(cfg.Warehouse), t.Name))
	}
	w := em.Window("metrics."+cfg.LoaderConsumer, inputs, outputs, em.Interval())
	s.loader.OnLoad(func(rows map[string]int64, err error) {
		if err != nil {
			w.Fail(err)
			return
		}
		stats := make([]lineage.Stats, len(outputs))
		for table, n := range rows {
			if i, ok := index[table]; ok {
				stats[i].Rows = n
			}
		}
		w.Add(stats...)
	})
	s.closers = append(s.closers, func() {
		w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := em.Close(ctx); err != nil {
			s.log.Warn("lineage events left unsent at shutdown", "error", err)
		}
	})
	return nil
}
