// Package duck runs the SQL of one dbt-style model over a micro-batch of
// records with an in-process DuckDB (github.com/duckdb/duckdb-go/v2).
//
// The flow for one batch: NewInputSchema maps an Avro writer schema to
// columns (unwrapping a Debezium envelope to its row image plus __op,
// __deleted and __source_ts), InputSchema.Decode turns each Avro body into
// a row of Go values, Engine.Run runs the compiled model SQL with every
// Input readable under its Table name and returns the result rows, and an
// OutputSchema built from the result columns encodes each row as the Avro
// body of the model's output topic.
//
// Inputs are not copied into DuckDB tables: a replacement scan resolves each
// input's table name to a table function that fills DuckDB's vectors straight
// from Input.Rows, only for the columns the SQL reads (see source.go). The
// session time zone is UTC, so DATE(timestamptz) and friends give UTC
// calendar days; file system access is disabled.
//
// Avro is decoded and encoded by code compiled from the schema, not by
// goavro maps; the tests check both directions against
// github.com/linkedin/goavro/v2. Decode is stricter than goavro: strings
// must be UTF-8, decimals must fit their precision, array and map block
// counts must fit the body, nesting is limited to 128 levels.
//
// Values in a decoded row, by column type: VARCHAR string, INTEGER int32,
// BIGINT int64, FLOAT float32, DOUBLE float64, BOOLEAN bool, BLOB []byte,
// DECIMAL(p,s) duckdb.Decimal, DATE, TIME, TIMESTAMP and TIMESTAMPTZ
// time.Time in UTC, JSON json.RawMessage (records as objects in field order,
// unions as the bare branch value, bytes as base64, decimals as exact
// numbers, temporal values as ISO 8601 strings), NULL nil.
//
// Result rows hold the values DuckDB's driver returns (the types above,
// plus int8/int16/uint8/uint16/uint32/uint64 for the other integer types),
// except that JSON, LIST, ARRAY, STRUCT, MAP and UNION come back as JSON
// text, and UUID, INTERVAL, BIT, TIMETZ, BIGNUM, HUGEINT and UHUGEINT as
// DuckDB's text for them (a UUID as its canonical string).
package duck
