// Package gate runs expectation suites over the staging topics and routes
// every record: one that meets every row-level expectation goes to
// curated.<model>, one that fails any goes to quarantine.<model> with each
// failed expectation and its offending value in the record's headers.
// Nothing is dropped.
//
// Each model is a consumer group ("<group prefix>.<model>") driven through a
// franz-go GroupTransactSession: a batch's curated and quarantined records,
// the window results it closes and its input offsets are one Kafka
// transaction, so the gate is exactly once like the transform.
//
// Set-level expectations (uniqueness, row counts, aggregates, distinct
// sets) are evaluated per tumbling window of the input records' timestamps;
// when a window closes, the suite's GE-shaped validation result goes to
// quality.results in the same transaction. A window's rows live in memory;
// at start the open window is rebuilt by re-reading the input from the
// window's start up to the committed offsets (without routing those records
// again), so a crash neither loses nor repeats a window result.
package gate
