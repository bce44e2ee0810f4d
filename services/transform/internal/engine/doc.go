// Package engine runs a project's dbt-style models continuously: one
// consume-transform-produce loop per model, from its input topic (a raw
// topic, or another model's staging topic) to staging.<model>.
//
// Each loop is a Kafka consumer group of its own ("<group prefix>.<model>")
// driven through a franz-go GroupTransactSession: a micro-batch of records
// (bounded by the model's max_records and linger) is decoded with its Avro
// writer schema, loaded into an in-process DuckDB table, queried with the
// model's compiled SQL, masked, de-duplicated by unique_key and produced to
// the output topic, and the input offsets are committed in the same Kafka
// transaction. A crash at any point leaves either the whole batch (outputs,
// dead letters and offsets) or none of it; consumers of the output read it
// with isolation level read_committed.
//
// De-duplication keeps, per unique_key, the last row emitted within the
// model's dedupe window: a row identical to it (or, with version_column,
// a row whose version is not newer) is dropped. The state is rebuilt on
// start from the output topic itself (the records emitted within the
// window), so it is exactly as durable as the outputs and needs no store
// of its own.
//
// A record that cannot be decoded, that makes the SQL fail (a failing batch
// is bisected until the failing records are isolated), or whose output row
// cannot be encoded goes to the dead-letter topic with the reason in its
// headers, in the same transaction; the rest of the batch goes on.
package engine
