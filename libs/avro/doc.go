// Package avro reads and writes riacho's record values: Avro binary in the
// Confluent wire format (magic byte 0, a 4-byte big-endian schema id, then
// the Avro body), with schemas kept in any Confluent-compatible schema
// registry.
//
// Client speaks the registry's REST API and caches what never changes
// (ids of registered schemas, schemas by id). Serde combines it with
// github.com/linkedin/goavro/v2: an Encoder registers its schema once and
// then encodes without further I/O; Decode looks each unknown schema id up
// once and keeps its codec.
//
// Native values are goavro's: records are map[string]any, unions are
// map[string]any{"typeName": v} or nil (see Union and Nullable), timestamps
// are time.Time and decimals are *big.Rat (see ParseDecimal: goavro
// truncates digits beyond the schema's scale without an error). Decoded
// bytes values alias the input buffer.
package avro
