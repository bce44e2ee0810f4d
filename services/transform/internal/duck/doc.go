// Package duck runs the SQL of one dbt-style model over a micro-batch of
// records with an in-process DuckDB (github.com/duckdb/duckdb-go/v2).
//
// The flow for one batch is: NewInputSchema maps an Avro writer schema to
// table columns (unwrapping a Debezium envelope to its row image),
// InputSchema.Decode turns each Avro body into a row of appender-ready Go
// values, Engine.Run loads the rows of every input into a table named after
// the input's relation, runs the compiled model SQL and returns the result
// rows, and OutputSchema encodes each result row as an Avro body for the
// model's output topic.
//
// Avro values are decoded and encoded by code compiled from the schema
// (no goavro maps on the hot path); the tests check both directions against
// github.com/linkedin/goavro/v2.
//
// Values in a decoded row, by column type: VARCHAR string, INTEGER int32,
// BIGINT int64, FLOAT float32, DOUBLE float64, BOOLEAN bool, BLOB []byte,
// DECIMAL(p,s) duckdb.Decimal, DATE/TIME/TIMESTAMP/TIMESTAMPTZ time.Time in
// UTC, JSON json.RawMessage, NULL nil. Result rows hold what DuckDB returns
// (the same types, plus *big.Int for HUGEINT, duckdb.UUID for UUID), except
// that nested types (JSON, LIST, STRUCT, MAP, ARRAY, UNION), INTERVAL, BIT,
// TIME WITH TIME ZONE, BIGNUM and HUGEINT/UHUGEINT come back as their DuckDB
// text (JSON text for the nested ones).
package duck
