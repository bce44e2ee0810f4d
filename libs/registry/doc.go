// Package registry is a Confluent-compatible Avro schema registry server.
//
// It speaks the Confluent Schema Registry REST API (subjects, versions, schema
// ids, compatibility checks and compatibility configuration) and keeps its
// state in a compacted Kafka topic (by default "_schemas") using Confluent's
// own record format, so a topic written by one implementation can be read by
// the other. Keys are JSON such as
//
//	{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1}
//	{"keytype":"CONFIG","subject":null,"magic":0}
//
// and values are JSON such as
//
//	{"subject":"orders-value","version":1,"id":1,"schema":"...","deleted":false}
//	{"compatibilityLevel":"BACKWARD"}
//
// A hard delete writes tombstones (records with a null value) for its keys.
//
// Lifecycle: New validates the configuration and builds the Kafka producer;
// Start creates the topic if it is missing, replays it from the beginning up
// to the high watermark and only then reports Ready, after which a background
// reader keeps tailing the topic so writes from another instance become
// visible. Run serves Handler on Config.Addr until its context ends. Close
// stops the reader and the Kafka clients.
//
// Writes are serialised by one mutex, produced with acks=all and applied to
// memory only after the broker acknowledged them. Only one instance should
// accept writes for a topic at a time: two writers could allocate the same id
// to different schemas (Confluent elects a leader for this; riacho's dev stack
// runs one instance).
//
// Schema identity: a schema's identity is its JSON text compacted with
// encoding/json (insignificant whitespace removed, key order and defaults
// kept). The same text registered under two subjects gets the same id.
// Compatibility between versions follows the Avro schema-resolution rules as
// implemented by github.com/hamba/avro/v2; schemas must also be accepted by
// github.com/linkedin/goavro/v2. Only the AVRO schema type is supported.
package registry
