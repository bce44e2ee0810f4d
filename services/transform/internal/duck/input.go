package duck

import (
	"fmt"
	"strconv"

	"github.com/duckdb/duckdb-go/v2"
)

// Column is one column of an input table.
type Column struct {
	// Name is the column name, the Avro field name.
	Name string
	// Type is the DuckDB type, e.g. VARCHAR, BIGINT, DECIMAL(18,2), TIMESTAMPTZ, DATE, JSON.
	Type string
}

// Envelope column names added when a Debezium envelope is unwrapped.
const (
	ColOp       = "__op"
	ColDeleted  = "__deleted"
	ColSourceTS = "__source_ts"
)

// Unwrap modes of NewInputSchema.
const (
	UnwrapAuto     = "auto"
	UnwrapDebezium = "debezium"
	UnwrapNone     = "none"
)

// InputSchema is the table layout of one Avro writer schema, with a decoder
// compiled from it. It is immutable and safe for concurrent use.
type InputSchema struct {
	// Columns are the table columns, in the order of Decode's values.
	Columns []Column
	// Envelope is true when a Debezium envelope was unwrapped.
	Envelope bool

	root    *atype
	cols    []colDec
	env     envLayout
	needStr bool              // some column keeps a string: Decode copies the body once
	infos   []duckdb.TypeInfo // DuckDB type of each column; nil for JSON, which the engine supplies
}

// colDec says how one column is decoded.
type colDec struct {
	t       *atype // the field's type (possibly a nullable union)
	value   *atype // the non-null type
	nullIdx int64  // union branch of null, -1 when not a nullable union
	union   bool   // t is a nullable union: read the branch index first
	conv    conv
}

// conv is the Go value a column decodes to.
type conv uint8

const (
	cNull conv = iota
	cBool
	cInt32
	cInt64
	cFloat32
	cFloat64
	cString
	cEnum
	cBytes
	cFixed
	cDecimal
	cDecimalText
	cUUIDFixed
	cDate
	cTimeMillis
	cTimeMicros
	cTSMillis
	cTSMicros
	cTSNanos
	cJSON
)

// envLayout locates the parts of a Debezium envelope.
type envLayout struct {
	before, after, op, source, tsMs int // field index in the envelope, -1 if absent
	sourceTS                        int // index of ts_ms in source, -1 if absent
}

// NewInputSchema maps the Avro writer schema avroSchemaJSON (a record) to
// table columns. unwrap is "auto" (or ""), "debezium" or "none": with auto a
// Debezium envelope (a record with before, after, op and source) is
// unwrapped, with debezium it must be one, with none it never is.
func NewInputSchema(avroSchemaJSON string, unwrap string) (*InputSchema, error) {
	root, err := parseSchema(avroSchemaJSON)
	if err != nil {
		return nil, err
	}
	if root.kind != kRecord {
		return nil, fmt.Errorf("%w: top-level type is %s, not a record", ErrSchema, kindName(root.kind))
	}
	s := &InputSchema{root: root}
	row := root
	switch unwrap {
	case "", UnwrapAuto, UnwrapDebezium:
		if img, env, ok := envelopeOf(root); ok {
			row, s.env, s.Envelope = img, env, true
		} else if unwrap == UnwrapDebezium {
			return nil, fmt.Errorf("%w: record %s is not a Debezium envelope (before, after, op, source)", ErrSchema, root.name)
		}
	case UnwrapNone:
	default:
		return nil, fmt.Errorf("%w: unknown unwrap mode %q", ErrSchema, unwrap)
	}
	seen := map[string]bool{}
	for _, f := range row.fields {
		d, typ := compileColumn(f.typ)
		s.cols = append(s.cols, d)
		s.Columns = append(s.Columns, Column{Name: f.name, Type: typ})
		seen[f.name] = true
		if d.conv == cString || d.conv == cEnum || d.conv == cBytes {
			s.needStr = true
		}
	}
	if s.Envelope {
		for _, c := range []Column{{ColOp, "VARCHAR"}, {ColDeleted, "BOOLEAN"}, {ColSourceTS, "TIMESTAMPTZ"}} {
			if seen[c.Name] {
				return nil, fmt.Errorf("%w: row field %s collides with the envelope column", ErrSchema, c.Name)
			}
			s.Columns = append(s.Columns, c)
		}
	}
	for _, c := range s.Columns {
		ti, err := typeInfo(c.Type)
		if err != nil {
			return nil, fmt.Errorf("%w: column %s: %w", ErrSchema, c.Name, err)
		}
		s.infos = append(s.infos, ti)
	}
	return s, nil
}

// typeInfo is the duckdb.TypeInfo of a column type NewInputSchema produces;
// nil for JSON.
func typeInfo(typ string) (duckdb.TypeInfo, error) {
	simple := map[string]duckdb.Type{
		"VARCHAR": duckdb.TYPE_VARCHAR, "BOOLEAN": duckdb.TYPE_BOOLEAN, "INTEGER": duckdb.TYPE_INTEGER,
		"BIGINT": duckdb.TYPE_BIGINT, "FLOAT": duckdb.TYPE_FLOAT, "DOUBLE": duckdb.TYPE_DOUBLE,
		"BLOB": duckdb.TYPE_BLOB, "DATE": duckdb.TYPE_DATE, "TIME": duckdb.TYPE_TIME,
		"TIMESTAMP": duckdb.TYPE_TIMESTAMP, "TIMESTAMPTZ": duckdb.TYPE_TIMESTAMP_TZ,
	}
	if t, ok := simple[typ]; ok {
		return duckdb.NewTypeInfo(t)
	}
	if typ == "JSON" {
		return nil, nil
	}
	if p, sc, ok := parseDecimalType(typ); ok {
		return duckdb.NewDecimalInfo(uint8(p), uint8(sc)) //nolint:gosec // parseDecimalType allows precision 1..38
	}
	return nil, fmt.Errorf("no DuckDB type for %s", typ)
}

// nullable splits a union of null and one other type.
func nullable(t *atype) (value *atype, nullIdx int64, ok bool) {
	if t.kind != kUnion || len(t.branches) != 2 {
		return nil, -1, false
	}
	switch {
	case t.branches[0].kind == kNull && t.branches[1].kind != kNull:
		return t.branches[1], 0, true
	case t.branches[1].kind == kNull && t.branches[0].kind != kNull:
		return t.branches[0], 1, true
	}
	return nil, -1, false
}

// compileColumn picks the conversion and DuckDB type of a field type.
func compileColumn(t *atype) (colDec, string) {
	d := colDec{t: t, value: t, nullIdx: -1}
	if v, idx, ok := nullable(t); ok {
		d.value, d.nullIdx, d.union = v, idx, true
	}
	v := d.value
	switch v.kind {
	case kNull:
		d.conv = cNull
		return d, "VARCHAR"
	case kBoolean:
		d.conv = cBool
		return d, "BOOLEAN"
	case kInt:
		switch v.logical {
		case lDate:
			d.conv = cDate
			return d, "DATE"
		case lTimeMillis:
			d.conv = cTimeMillis
			return d, "TIME"
		}
		d.conv = cInt32
		return d, "INTEGER"
	case kLong:
		switch v.logical {
		case lTimeMicros:
			d.conv = cTimeMicros
			return d, "TIME"
		case lTSMillis, lTSMicros, lTSNanos:
			d.conv = cTSMillis + conv(v.logical-lTSMillis)
			return d, "TIMESTAMPTZ"
		case lLocalMillis, lLocalMicros, lLocalNanos:
			d.conv = cTSMillis + conv(v.logical-lLocalMillis)
			return d, "TIMESTAMP"
		}
		d.conv = cInt64
		return d, "BIGINT"
	case kFloat:
		d.conv = cFloat32
		return d, "FLOAT"
	case kDouble:
		d.conv = cFloat64
		return d, "DOUBLE"
	case kString:
		d.conv = cString
		return d, "VARCHAR"
	case kEnum:
		d.conv = cEnum
		return d, "VARCHAR"
	case kBytes, kFixed:
		if v.logical == lDecimal {
			if v.precision > 38 {
				d.conv = cDecimalText
				return d, "VARCHAR"
			}
			d.conv = cDecimal
			return d, "DECIMAL(" + strconv.Itoa(v.precision) + "," + strconv.Itoa(v.scale) + ")"
		}
		if v.logical == lUUID {
			d.conv = cUUIDFixed
			return d, "VARCHAR"
		}
		d.conv = cBytes
		if v.kind == kFixed {
			d.conv = cFixed
		}
		return d, "BLOB"
	}
	// Records, arrays, maps and other unions are JSON text.
	return colDec{t: t, value: t, nullIdx: -1, conv: cJSON}, "JSON"
}

// envelopeOf recognises a Debezium envelope and returns its row record.
func envelopeOf(t *atype) (*atype, envLayout, bool) {
	env := envLayout{before: -1, after: -1, op: -1, source: -1, tsMs: -1, sourceTS: -1}
	for i, f := range t.fields {
		switch f.name {
		case "before":
			env.before = i
		case "after":
			env.after = i
		case "op":
			env.op = i
		case "source":
			env.source = i
		case "ts_ms":
			env.tsMs = i
		}
	}
	if env.before < 0 || env.after < 0 || env.op < 0 || env.source < 0 {
		return nil, env, false
	}
	before, _, ok1 := nullable(t.fields[env.before].typ)
	after, _, ok2 := nullable(t.fields[env.after].typ)
	if !ok1 || !ok2 || before != after || before.kind != kRecord {
		return nil, env, false
	}
	if t.fields[env.op].typ.kind != kString || t.fields[env.source].typ.kind != kRecord {
		return nil, env, false
	}
	if env.tsMs >= 0 && !isLongish(t.fields[env.tsMs].typ) {
		env.tsMs = -1
	}
	for i, f := range t.fields[env.source].typ.fields {
		if f.name == "ts_ms" && isLongish(f.typ) {
			env.sourceTS = i
		}
	}
	return after, env, true
}

// isLongish reports whether t is long or a nullable long.
func isLongish(t *atype) bool {
	if v, _, ok := nullable(t); ok {
		t = v
	}
	return t.kind == kLong
}
