// Package table keeps every entity of the lake as an Apache Iceberg table (github.com/apache/iceberg-go,
// SQL catalog: SQLite by default, PostgreSQL in production) whose snapshots append the Parquet files
// the sink writes, with the Kafka offsets they cover in the snapshot summary.
//
// # Layout of a table
//
// The tables are unpartitioned: the Parquet files stay where the lake layout puts them
// (raw/<source>/year=YYYY/month=MM/day=DD/<entity>_<YYYYMMDD>_<NNN>.parquet), and the day of a file is
// read from its path through the lake.Layout, not from an Iceberg partition value. iceberg-go v0.7.0
// infers partition values for added files from column statistics, which needs an event-time column
// in every file and fails for files whose day came from the Kafka timestamp; keeping the day in the
// path works for every file and every template. Readers that filter by day still skip files by the
// min/max statistics of the event-time column that AddFiles records. Table metadata (metadata JSON,
// manifest lists, manifests) lives under _iceberg/<namespace>/<name>/ of the same bucket, outside the
// zone directories, so Hive-style readers of raw/ see Parquet files only.
//
// # Commits
//
// Commit moves staged files (lake.StagingKey) to their layout paths and appends them in one Iceberg
// transaction. The snapshot summary carries "riacho.offset.<topic>.<partition>" = next offset to read
// for every partition ever committed to the table (carried forward from the previous snapshot), so
// the table is the single record of what has been written: a sink replica that takes over a partition
// reads Offsets and starts there, and a replica that lost its partition gets ErrAlreadyCommitted for
// files another replica committed first. Commits of one table are serialised by a mutex per table in
// the process and, across processes, by pg_advisory_xact_lock held on a separate connection for the
// whole commit (PostgreSQL catalog) or an exclusive flock on <catalog file>.locks/<table>.lock
// (SQLite catalog, processes of one host), so the sequence number {seq} (1 + the highest of that entity and day among the
// table's current data files) never collides between replicas. A crash before the catalog commit
// leaves the previous snapshot; the final-path objects it may have copied carry sequence numbers above
// the table's highest, so the next commit of that day overwrites them (and deletes the ones it does
// not reuse).
//
// # Field ids
//
// Iceberg matches Parquet columns to table columns by field id when a file has ids, and through the
// table's name mapping (schema.name-mapping.default, kept up to date on schema evolution) when it has
// none. The table assigns its own ids (fresh ids at creation, new ids for columns added by schema
// evolution), so a file must either carry the table's ids (Table.Schema) or no ids at all; Commit
// refuses a file whose ids disagree with the table's by name (ErrSchemaMismatch) instead of letting
// readers pick the wrong columns.
//
// # Maintenance and time travel
//
// Compact rewrites the small files of one day into larger ones as a "replace" snapshot; earlier
// snapshots still read the old files until Expire removes the snapshots older than a retention and
// deletes the files no remaining snapshot references. Scan reads the rows of any retained snapshot and
// SnapshotAsOf finds the snapshot current at a time.
package table
