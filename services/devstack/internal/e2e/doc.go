// Package e2e holds riacho's end-to-end tests and the end-to-end freshness
// benchmark. They start the whole suite in one process with devstack (the
// embedded Kafka-protocol broker and schema registry, intake, sink, transform,
// quality, metrics, and the CDC when a local PostgreSQL with wal_level=logical
// is reachable), post signed webhooks to the intake and follow each record
// through every stage with independent readers: a Kafka consumer that decodes
// Avro with the schemas fetched from the registry, parquet-go over the lake's
// files, the sink's Iceberg scan, read_committed consumers of the staging,
// curated and quarantine topics, and MetricsService over gRPC.
//
//	go test ./internal/e2e/                        # the short end-to-end test
//	RIACHO_E2E_FULL=1 go test -run EndToEndFull ./internal/e2e/   # a few hundred events, counted everywhere
//	go test -run '^$' -bench EndToEndFreshness -benchtime 100x ./internal/e2e/
package e2e
