// Package pgtypes maps PostgreSQL column types to Avro schemas and decodes the text form
// of PostgreSQL values (as pgoutput sends them, and as `SELECT col::text` returns them)
// into the Go value forms the envelope package writes with goavro.
//
// A Catalog looks each type up in pg_type once and caches the Mapping. The mapping is:
//
//	bool                       "boolean"                               bool
//	int2, int4                 "int"                                   int32
//	int8, oid                  "long"                                  int64
//	float4                     "float" (NaN, ±Infinity kept)           float32
//	float8                     "double" (NaN, ±Infinity kept)          float64
//	numeric(p,s)               bytes/decimal(p,s)                      *big.Rat (exact)
//	numeric                    record riacho.data.VariableScaleDecimal map{"scale": int32, "value": []byte}
//	bytea                      "bytes"                                 []byte
//	date                       int/date                                time.Time (UTC midnight)
//	timestamp, timestamptz     long/timestamp-micros                   time.Time (UTC)
//	time                       long/time-micros                        time.Duration
//	uuid                       string/uuid                             string
//	enum                       "string" with riacho.enum, riacho.labels string (the label)
//	domain                     the base type's mapping (SourceType names the domain)
//	one-dimensional array      {"type":"array","items":["null", elem]} []any (nil = NULL element)
//	everything else            "string"                                string (the text as PostgreSQL prints it)
//
// "Everything else" includes text, varchar, bpchar (padding kept), name, citext, money (locale
// text), timetz, interval, json, jsonb, xml, inet, cidr, macaddr, bit, varbit, tsvector,
// ranges, composites, hstore, geometric types and any type this package does not know.
//
// Enums map to "string" rather than an Avro enum: Avro symbols cannot hold arbitrary
// PostgreSQL labels, and ALTER TYPE ... ADD VALUE would make the schema incompatible. The
// labels known when the type was looked up are carried as schema properties
// ("riacho.enum": type name, "riacho.labels": [labels in sort order]).
//
// Numeric precision and scale follow Avro's rules: numeric(p,s) with a negative scale
// (PostgreSQL 15+) maps to decimal(p-s, 0), and a scale larger than the precision maps to
// decimal(s, s); the values are the same.
//
// Values that PostgreSQL accepts but the Avro type cannot carry make Decode return an error
// wrapping ErrNotRepresentable (see NotRepresentableError): numeric NaN and ±Infinity, date
// and timestamp ±infinity, timestamps after year 294246 (past int64 microseconds since
// 1970), values with more digits than the declared decimal, and multi-dimensional array
// values (the schema of an array column is always one-dimensional). Text that is not what
// PostgreSQL prints makes Decode return an error wrapping ErrMalformed.
//
// The decoders expect the server's default output settings: DateStyle ISO (any TimeZone:
// offsets, including seconds-precision historical ones, are applied), IntervalStyle any
// (interval is kept as text), bytea_output hex or escape, extra_float_digits ≥ 1 (the
// default; shortest exact float text). Decode never keeps a reference to its input, so
// callers may reuse the buffer.
package pgtypes
