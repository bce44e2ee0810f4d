// Package engine is the sink's write path: it consumes Avro topics as a
// member of a consumer group, decodes every record by its writer schema,
// writes one staged Parquet file per Kafka partition and UTC day, and commits
// the files of a partition's contiguous offset range to the entity's Iceberg
// table together with the range's offsets.
//
// Exactly once rests on the table, not on the consumer group: on assignment
// a partition starts at the next offset recorded in its table's current
// snapshot (the group's committed offset is only a fallback for tables that
// have none), and a commit whose start offset no longer matches the recorded
// one is refused by the table (table.ErrAlreadyCommitted) and dropped. Open
// files of a partition that leaves this member are abandoned; the new owner
// rewrites them from the table's offsets. The group offset is committed after
// each table commit only so that lag can be monitored with the usual tools.
package engine
