// Package avrofuzz holds the fuzz tests of package avroparquet. They live apart
// from avroparquet's own tests because a test binary that also links DuckDB
// stalls Go's fuzzing engine.
package avrofuzz
