// Package lineage emits OpenLineage run events (spec 2-0-2) from riacho's
// services, so that a lineage backend such as Marquez sees which job read
// which topics and wrote which tables, run by run.
//
// An Emitter is built from Config (RIACHO_LINEAGE_* variables). With
// neither RIACHO_LINEAGE_URL nor RIACHO_LINEAGE_TOPIC set, New returns a nil
// *Emitter, and every method of a nil Emitter, Run and Window does nothing
// and allocates nothing: callers never test whether lineage is on.
//
// Emitting never blocks the data path: events go to a bounded queue that
// one goroutine sends, over HTTP (POST to the URL, the OpenLineage HTTP
// transport) and/or to a Kafka topic (JSON, keyed by job name). When the
// queue is full the new event is dropped and counted
// (riacho_lineage_events_dropped_total): a lineage backend that is down or
// slow never stalls ingestion. Close flushes the queue within its context.
//
// A Run is one unit of committed work: Start emits START, and Complete,
// Fail or Abort emits the terminal event. A Window groups many small
// commits (a transaction every few hundred milliseconds) into runs of at
// most an interval each, with cumulative output statistics.
package lineage
