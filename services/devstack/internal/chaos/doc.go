// Package chaos holds riacho's end-to-end chaos test: the six services run
// as separate processes (the test binary re-executed, one app.Main each)
// against an in-process Kafka-protocol broker and schema registry, while a
// generator posts signed webhooks to the intake at a steady rate. Each
// service in turn is killed with SIGKILL mid-stream and restarted with the
// same configuration; at the end every accepted event must be in the lake,
// in the curated or quarantine topics and in the metrics warehouse exactly
// once, proved by count and checksum. See docs/chaos.md.
package chaos
