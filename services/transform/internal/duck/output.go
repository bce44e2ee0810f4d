package duck

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// enc is how one output field is written.
type enc uint8

const (
	eString enc = iota
	eBool
	eInt
	eLong
	eFloat
	eDouble
	eDecimal
	eDate
	eTimeMicros
	eTSMicros
	eLocalTSMicros
	eBytes
	eUUID
)

// ofield is one output field.
type ofield struct {
	name      string
	enc       enc
	precision int      // decimal
	scale     int      // decimal
	limit     *big.Int // decimal: 10^precision
}

// OutputSchema is the Avro record schema of a model's result rows, with an
// encoder compiled from it. It is immutable and safe for concurrent use.
type OutputSchema struct {
	fields []ofield
	index  map[string]int
	json   string
}

// isAvroName reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func isAvroName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return s != ""
}

// NewOutputSchema builds the Avro record schema name (in namespace, which
// may be "") of result columns cols: every field is ["null", T] with a null
// default, T following the column's DuckDB type (see the contract table in
// the package doc); columns in asString (masked columns) are strings.
// Column names must be valid Avro names: alias computed columns in the SQL.
func NewOutputSchema(name, namespace string, cols []OutputColumn, asString map[string]bool) (*OutputSchema, error) {
	if !isAvroName(name) {
		return nil, fmt.Errorf("%w: record name %q is not an Avro name", ErrSchema, name)
	}
	if namespace != "" {
		for _, part := range strings.Split(namespace, ".") {
			if !isAvroName(part) {
				return nil, fmt.Errorf("%w: namespace %q is not a dotted Avro name", ErrSchema, namespace)
			}
		}
	}
	o := &OutputSchema{index: make(map[string]int, len(cols))}
	var b strings.Builder
	b.WriteString(`{"type":"record","name":"` + name + `"`)
	if namespace != "" {
		b.WriteString(`,"namespace":"` + namespace + `"`)
	}
	b.WriteString(`,"fields":[`)
	for i, c := range cols {
		if !isAvroName(c.Name) {
			return nil, fmt.Errorf("%w: column %q is not an Avro name (alias it in the model)", ErrSchema, c.Name)
		}
		if _, dup := o.index[c.Name]; dup {
			return nil, fmt.Errorf("%w: column %q appears twice", ErrSchema, c.Name)
		}
		f := outputField(c)
		if asString[c.Name] {
			f = ofield{name: c.Name, enc: eString}
		}
		o.index[c.Name] = i
		o.fields = append(o.fields, f)
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"` + c.Name + `","type":["null",` + f.avroType() + `],"default":null}`)
	}
	b.WriteString(`]}`)
	o.json = b.String()
	return o, nil
}

// outputField maps a DuckDB type to its Avro encoding.
func outputField(c OutputColumn) ofield {
	f := ofield{name: c.Name, enc: eString}
	t := strings.ToUpper(strings.TrimSpace(c.DuckType))
	switch t {
	case "VARCHAR":
	case "BOOLEAN":
		f.enc = eBool
	case "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT":
		f.enc = eInt
	case "BIGINT", "UINTEGER":
		f.enc = eLong
	case "UBIGINT":
		f.enc, f.precision = eDecimal, 38
	case "FLOAT":
		f.enc = eFloat
	case "DOUBLE":
		f.enc = eDouble
	case "DATE":
		f.enc = eDate
	case "TIME":
		f.enc = eTimeMicros
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		f.enc = eLocalTSMicros
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		f.enc = eTSMicros
	case "BLOB":
		f.enc = eBytes
	case "UUID":
		f.enc = eUUID
	default:
		if p, s, ok := parseDecimalType(t); ok {
			f.enc, f.precision, f.scale = eDecimal, p, s
		}
	}
	if f.enc == eDecimal {
		f.limit = pow10(f.precision)
	}
	return f
}

// parseDecimalType reads DECIMAL(p,s) (or NUMERIC).
func parseDecimalType(t string) (p, s int, ok bool) {
	for _, prefix := range []string{"DECIMAL(", "NUMERIC("} {
		if rest, found := strings.CutPrefix(t, prefix); found {
			ps, found := strings.CutSuffix(rest, ")")
			if !found {
				return 0, 0, false
			}
			a, b, _ := strings.Cut(ps, ",")
			p, err1 := strconv.Atoi(strings.TrimSpace(a))
			s, err2 := strconv.Atoi(strings.TrimSpace(b))
			if err1 != nil || err2 != nil || p < 1 || p > 38 || s < 0 || s > p {
				return 0, 0, false
			}
			return p, s, true
		}
	}
	return 0, 0, false
}

func (f ofield) avroType() string {
	switch f.enc {
	case eBool:
		return `"boolean"`
	case eInt:
		return `"int"`
	case eLong:
		return `"long"`
	case eFloat:
		return `"float"`
	case eDouble:
		return `"double"`
	case eDecimal:
		return `{"type":"bytes","logicalType":"decimal","precision":` + strconv.Itoa(f.precision) +
			`,"scale":` + strconv.Itoa(f.scale) + `}`
	case eDate:
		return `{"type":"int","logicalType":"date"}`
	case eTimeMicros:
		return `{"type":"long","logicalType":"time-micros"}`
	case eTSMicros:
		return `{"type":"long","logicalType":"timestamp-micros"}`
	case eLocalTSMicros:
		return `{"type":"long","logicalType":"local-timestamp-micros"}`
	case eBytes:
		return `"bytes"`
	case eUUID:
		return `{"type":"string","logicalType":"uuid"}`
	}
	return `"string"`
}

// JSON returns the Avro schema: a record whose fields are the columns in
// order, each ["null", T] with default null. The same columns always give
// the same text.
func (o *OutputSchema) JSON() string { return o.json }

// Index returns the position of column col in a row, or -1.
func (o *OutputSchema) Index(col string) int {
	if i, ok := o.index[col]; ok {
		return i
	}
	return -1
}
