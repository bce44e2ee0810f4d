// Package pgcdc captures changes from PostgreSQL through logical
// replication (pgoutput, protocol version 2) and writes them to Kafka in
// riacho's Debezium envelope.
//
// # Setup
//
// The capture creates (or reuses) a publication for the tables its
// include/exclude patterns select, re-checked every heartbeat interval so
// tables created later are added (and, in initial snapshot mode,
// snapshotted). It creates a permanent logical slot with pgoutput and
// records it in the state store ("pg/<source>/slot") before and after
// creating it. The stream is started with proto_version '2', streaming 'on'
// and messages 'true'.
//
// # Snapshots
//
// A new slot exports its snapshot; every table is read inside it (REPEATABLE
// READ, SET TRANSACTION SNAPSHOT) before streaming starts at the slot's
// consistent point, so each change is either in the snapshot or in the
// stream, never both and never neither. Rows are read in text format and
// decoded by the same pgtypes decoders as the stream, in keyset chunks of
// ChunkSize rows ordered by the primary key; each chunk's last key is
// recorded ("pg/<source>/snapshot/<schema>.<table>") once Kafka acknowledged
// the chunk. The first row is marked snapshot "first", the last "last", the
// others "true".
//
// A snapshot cut short (the process died) cannot use the exported snapshot
// again. The unfinished tables are then read with watermark-based chunks
// while the stream runs (the DBLog method, as in Debezium's incremental
// snapshots), starting after the last acknowledged key: for each chunk a
// low watermark (pg_logical_emit_message, non-transactional) is written,
// the chunk is read in its own REPEATABLE READ transaction, and a high
// watermark is written. When the stream reaches the high watermark the
// chunk's rows are emitted (op r, snapshot "incremental"), except the keys
// the stream changed between the two watermarks: those rows already came
// from the stream with a value at least as new. In addition, a transaction
// that the stream delivered before the low watermark but that the chunk's
// snapshot still listed as in progress (its commit record was written
// before the watermark but it was not yet visible) makes the chunk be read
// again, since its rows could be older than that change. The same
// mechanism serves Snapshot, the on-demand snapshot of one table.
//
// Tables without a primary key (nor a replica identity index) are read
// whole in one pass and produced directly, without reconciliation: no row
// is lost, but a row changed while the pass runs may arrive from both the
// snapshot and the stream, in either order, and a pass cut short starts
// again from the beginning. Their records have no Kafka key. (PostgreSQL
// refuses updates and deletes on a published table without a replica
// identity; give such tables REPLICA IDENTITY FULL.)
//
// # Streaming
//
// Relation messages are mapped with pgtypes; the Kafka key is the primary
// key read from pg_index (a replica identity index when there is no primary
// key), also when REPLICA IDENTITY FULL flags every column. A Relation
// message with a different shape for a known table forgets the cached
// types and prepares the table again, which registers a compatible new
// schema version without a restart. Updates carry before when the server
// sends an old tuple (REPLICA IDENTITY FULL: the whole row; otherwise the
// old key when the key changed); an update that changes the key is written
// as a delete (and tombstone) of the old key and a create of the new one.
// An unchanged TOAST value ('u') is taken from the old tuple when there is
// one (REPLICA IDENTITY FULL) and otherwise listed in Event.Unchanged, never
// written as null. Large transactions the server streams before they
// commit are held in memory per transaction id until Stream Commit, and
// dropped (whole, or one aborted subtransaction's changes) on Stream Abort.
//
// source.lsn is the change's own WAL position (unique per change; a
// consumer drops a replay by (lsn, txId)); source.ts_ms is the commit time;
// snapshot rows carry the slot's consistent point (initial) or the high
// watermark's position (incremental).
//
// # Delivery
//
// Records are produced asynchronously. An ordered tracker confirms a
// transaction's end position to the server only once Kafka acknowledged
// every record of it and of every transaction before it; standby status
// updates go out every StatusInterval and when the server asks. When
// nothing read is pending, the WAL end of a keepalive is confirmed (a
// transaction still open on the server commits after it). A heartbeat
// transaction (pg_logical_emit_message(true, 'riacho.heartbeat', ...)) is
// written every Heartbeat into the captured database, so a quiet database
// still moves its slot. After a crash the stream resumes from the slot:
// at-least-once, nothing lost.
//
// # Failures
//
// A slot the state store recorded but the server does not have (dropped by
// hand, lost in a failover) stops Run with ErrSlotLost, logged at error
// and shown in Status; with OnSlotLoss "resnapshot" the slot is created
// again and every table snapshotted again, logged as a warning. A change
// that cannot be decoded (a value pgtypes cannot represent) or encoded, or
// whose table's new schema the registry refused, goes to the dead-letter
// topic with the reason; its table is marked failed in Status (cleared by
// Snapshot) and the other tables and the slot keep moving. Connection and
// Kafka failures end the session; Run starts a new one with a backoff.
package pgcdc
