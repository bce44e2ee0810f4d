// Package poll captures sources without a change log by polling: SAP
// Business One (sapb1), Ploomes (ploomes) and SQL tables (sqlcursor) each
// provide a Fetcher, and a Poller turns what they read into change events in
// the same Debezium envelope and topics as the log-based capture.
//
// For each entity a goroutine loops: read the next page after the stored
// cursor, turn its rows into events, produce them and wait for Kafka's
// acknowledgements, and only then store the new cursor in the state store
// (key "poll/<source>/<entity>"). A crash between the acknowledgement and
// the store re-emits that page (at least once); nothing is skipped. When a
// page is full the next is read at once; once the entity has caught up the
// poller waits Interval. A failing entity is retried with backoff and
// reported in Status while the others go on.
//
// # Cursor and de-duplication
//
// The cursor is the greatest change time emitted, the last key, and the
// keys emitted in the overlap window below that time (with their change
// times). Each poll starts at cursor − Overlap with an inclusive filter, so
// rows committed late with an earlier change time and rows sharing the
// cursor's exact time are read again; a row whose key was already emitted
// with the same or a later change time is dropped. Within one poll pages
// follow each other by position: the change time of the last row read and
// the rows read at exactly that time (a key for keyset sources, a $skip
// count for OData sources), so no row between two pages is lost even when
// many share one timestamp.
//
// # Op rule
//
// Rows emitted before the entity's first complete pass (the backfill from
// an empty cursor) are op "r" with source.snapshot "true"; once a poll has
// reached the end of the entity, every row emitted afterwards is op "u" with
// snapshot "false", whether the source created or changed it: polling cannot
// tell an insert from an update. Deletes are invisible to polling.
//
// # Tables
//
// REST entities become Table{Source, Connector: "sapb1"|"ploomes", Schema:
// "b1"|"api" (configurable), Name: entity lower-cased}, so topics are
// raw.<source>.b1.invoices and raw.<source>.api.deals. Their columns are the
// key fields, the cursor fields, the configured typed fields and _raw, the
// source's original JSON object, so nothing the source sent is lost.
package poll
