// Loading guarantees (loader.go, write.go, tx.go):
//
//   - Exactly once. Each batch is one warehouse transaction holding the rows,
//     the rejects, riacho_offsets (the next offset of every partition in the
//     batch), riacho_freshness and the generation (and, on PostgreSQL,
//     pg_notify('riacho_warehouse', '<generation>')). On partition assignment
//     the loader starts from riacho_offsets (kgo.AdjustFetchOffsetsFn), never
//     from Kafka's committed offsets, which are only mirrored there for lag
//     tools. A crash before the commit loses the whole batch, which is then
//     read again; one after it finds the offsets moved.
//   - Replicas. Loaders share a consumer group (LoaderConfig.Consumer), so
//     partitions are split among them, and rebalances are blocked while a
//     batch is in flight (kgo.BlockRebalanceOnPoll). The offsets update is
//     also fenced: it only succeeds if the row still holds the offset the
//     batch started from (UPDATE … WHERE next_offset = old, or INSERT … ON
//     CONFLICT DO NOTHING for a first batch), so a loader that lost its
//     partitions without knowing it rolls back instead of loading twice, then
//     re-reads the offsets and seeks.
//   - Bad records. A record that cannot be decoded or does not fit its
//     columns goes to riacho_rejects (topic, partition, offset, table_name,
//     reason, record_key, value, rejected_at) in the same transaction, and is
//     counted; it neither stalls the loader nor disappears. If the warehouse
//     itself refuses a value (SQLSTATE classes 22/23, DuckDB conversion or
//     constraint errors), the batch is retried record by record and the
//     refused record rejected with the warehouse's message.
//   - Outages. A failed transaction (warehouse or schema registry down) is
//     retried with doubling backoff (RetryBackoff up to MaxBackoff) with the
//     same records; nothing is skipped. Status().LastError shows the cause.
//   - Writes. PostgreSQL: COPY into a temporary staging table, then INSERT …
//     ON CONFLICT (key) DO UPDATE for keyed tables (the last record of a key
//     in a batch wins, by offset); COPY straight into append-only facts.
//     DuckDB: multi-row INSERT (… ON CONFLICT DO UPDATE for keyed tables).
//     Tombstones delete the key (facts and type 1 dimensions); a tombstone for
//     an append-only fact is rejected. A tombstone's key is read from the
//     Kafka key: a Confluent Avro record or primitive, a JSON object, or the
//     key bytes as text for a one-column key.
//   - Type 2 dimensions. A changed row closes the key's current version
//     (valid_to = the record's Kafka timestamp, is_current = false) and opens
//     one from that timestamp; an unchanged row adds nothing; a tombstone
//     closes the current version. A record whose timestamp is not after the
//     newest version's valid_from rewrites that version in place.
//   - Freshness. max_event_time is the newest event_time value loaded (the
//     Kafka record timestamp when the table declares none); rows_loaded
//     counts applied records (upserts, appends, tombstones); generation is
//     the previous highest plus one, serialised across replicas on
//     PostgreSQL by an advisory lock. A batch holding only rejects advances
//     the offsets but not the generation, and does not call OnCommit.

package warehouse
