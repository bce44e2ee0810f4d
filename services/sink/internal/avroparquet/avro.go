package avroparquet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
)

// avroKind is the kind of an Avro schema node.
type avroKind uint8

const (
	kindNull avroKind = iota
	kindBoolean
	kindInt
	kindLong
	kindFloat
	kindDouble
	kindBytes
	kindString
	kindRecord
	kindEnum
	kindFixed
	kindArray
	kindMap
	kindUnion
)

var primitiveKinds = map[string]avroKind{
	"null":    kindNull,
	"boolean": kindBoolean,
	"int":     kindInt,
	"long":    kindLong,
	"float":   kindFloat,
	"double":  kindDouble,
	"bytes":   kindBytes,
	"string":  kindString,
}

var kindNames = [...]string{
	kindNull: "null", kindBoolean: "boolean", kindInt: "int", kindLong: "long", kindFloat: "float",
	kindDouble: "double", kindBytes: "bytes", kindString: "string", kindRecord: "record", kindEnum: "enum",
	kindFixed: "fixed", kindArray: "array", kindMap: "map", kindUnion: "union",
}

func (k avroKind) String() string { return kindNames[k] }

// Logical types recognised on their spec'd underlying types; any other
// combination falls back to the underlying type, as the Avro specification says.
const (
	logicalNone = iota
	logicalDecimal
	logicalDate
	logicalTimeMillis
	logicalTimeMicros
	logicalTimestampMillis
	logicalTimestampMicros
	logicalLocalTimestampMillis
	logicalLocalTimestampMicros
	logicalUUID
)

// avroSchema is one parsed Avro schema node.
type avroSchema struct {
	kind      avroKind
	logical   int
	precision int // decimal
	scale     int // decimal
	size      int // fixed

	name      string // named types: the short name
	fullName  string // named types: namespace.name
	namespace string // named types: the namespace children inherit

	fields   []avroField   // record
	symbols  []string      // enum
	items    *avroSchema   // array
	values   *avroSchema   // map
	branches []*avroSchema // union

	// wrapKey is the key goavro uses when it wraps a value of this type in a union
	// (map[string]any{wrapKey: value}).
	wrapKey string

	defining bool // a record whose fields are being parsed (recursion detection)
}

type avroField struct {
	name string
	doc  string
	typ  *avroSchema
}

// maxPrecision bounds decimal precision (PostgreSQL's numeric stops at 1000).
const maxPrecision = 1000

// maxDepth bounds the nesting of schemas (Parquet levels are bytes).
const maxDepth = 64

type avroParser struct {
	named map[string]*avroSchema
}

// parseAvro parses Avro schema JSON text.
func parseAvro(text string) (*avroSchema, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("avro schema is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("avro schema has trailing data")
	}
	p := &avroParser{named: make(map[string]*avroSchema)}
	return p.parse(v, "", 0)
}

func (p *avroParser) parse(v any, ns string, depth int) (*avroSchema, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("schema nested deeper than %d levels", maxDepth)
	}
	switch t := v.(type) {
	case string:
		return p.reference(t, ns)
	case []any:
		return p.union(t, ns, depth)
	case map[string]any:
		return p.object(t, ns, depth)
	default:
		return nil, fmt.Errorf("schema must be a string, an array or an object, not %s", jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (p *avroParser) reference(name, ns string) (*avroSchema, error) {
	if k, ok := primitiveKinds[name]; ok {
		return &avroSchema{kind: k, wrapKey: name}, nil
	}
	var s *avroSchema
	if !strings.Contains(name, ".") && ns != "" {
		s = p.named[ns+"."+name]
	}
	if s == nil {
		s = p.named[name]
	}
	if s == nil {
		return nil, fmt.Errorf("unknown type %q", name)
	}
	if s.defining {
		return nil, fmt.Errorf("recursive type %q cannot be stored as Parquet", s.fullName)
	}
	return s, nil
}

func (p *avroParser) union(branches []any, ns string, depth int) (*avroSchema, error) {
	if len(branches) == 0 {
		return nil, errors.New("empty union")
	}
	u := &avroSchema{kind: kindUnion, wrapKey: "union"}
	seen := make(map[string]bool, len(branches))
	for i, b := range branches {
		s, err := p.parse(b, ns, depth+1)
		if err != nil {
			return nil, fmt.Errorf("union branch %d: %w", i+1, err)
		}
		if s.kind == kindUnion {
			return nil, fmt.Errorf("union branch %d: a union may not contain a union", i+1)
		}
		if seen[s.wrapKey] {
			return nil, fmt.Errorf("union branch %d: type %s appears twice", i+1, s.wrapKey)
		}
		seen[s.wrapKey] = true
		u.branches = append(u.branches, s)
	}
	return u, nil
}

func (p *avroParser) object(m map[string]any, ns string, depth int) (*avroSchema, error) {
	tv, ok := m["type"]
	if !ok {
		return nil, errors.New(`schema object has no "type"`)
	}
	t, ok := tv.(string)
	if !ok {
		// {"type": {...}} or {"type": [...]}: the attribute holds a whole schema.
		return p.parse(tv, ns, depth+1)
	}
	switch t {
	case "record", "error":
		return p.record(m, ns, depth)
	case "enum":
		return p.enum(m, ns)
	case "fixed":
		return p.fixed(m, ns)
	case "array":
		items, ok := m["items"]
		if !ok {
			return nil, errors.New(`array has no "items"`)
		}
		it, err := p.parse(items, ns, depth+1)
		if err != nil {
			return nil, fmt.Errorf("array items: %w", err)
		}
		return &avroSchema{kind: kindArray, items: it, wrapKey: "array"}, nil
	case "map":
		values, ok := m["values"]
		if !ok {
			return nil, errors.New(`map has no "values"`)
		}
		vt, err := p.parse(values, ns, depth+1)
		if err != nil {
			return nil, fmt.Errorf("map values: %w", err)
		}
		return &avroSchema{kind: kindMap, values: vt, wrapKey: "map"}, nil
	}
	k, ok := primitiveKinds[t]
	if !ok {
		// {"type": "SomeNamedType"}
		return p.reference(t, ns)
	}
	s := &avroSchema{kind: k, wrapKey: t}
	return s, p.logical(s, m)
}

// logical applies a logicalType attribute to a primitive s.
func (p *avroParser) logical(s *avroSchema, m map[string]any) error {
	lt, _ := m["logicalType"].(string)
	if lt == "" {
		return nil
	}
	switch {
	case lt == "decimal" && (s.kind == kindBytes || s.kind == kindFixed):
		prec, scale, err := decimalParams(m)
		if err != nil {
			return err
		}
		if s.kind == kindFixed {
			if limit := maxFixedPrecision(s.size); prec > limit {
				return fmt.Errorf("decimal precision %d does not fit fixed(%d) (at most %d)", prec, s.size, limit)
			}
		} else {
			s.wrapKey = "bytes.decimal"
			if n, ok := m["name"].(string); ok && n != "" {
				s.wrapKey = n
			}
		}
		s.logical, s.precision, s.scale = logicalDecimal, prec, scale
	case lt == "date" && s.kind == kindInt:
		s.logical, s.wrapKey = logicalDate, "int.date"
	case lt == "time-millis" && s.kind == kindInt:
		s.logical, s.wrapKey = logicalTimeMillis, "int.time-millis"
	case lt == "time-micros" && s.kind == kindLong:
		s.logical, s.wrapKey = logicalTimeMicros, "long.time-micros"
	case lt == "timestamp-millis" && s.kind == kindLong:
		s.logical, s.wrapKey = logicalTimestampMillis, "long.timestamp-millis"
	case lt == "timestamp-micros" && s.kind == kindLong:
		s.logical, s.wrapKey = logicalTimestampMicros, "long.timestamp-micros"
	case lt == "local-timestamp-millis" && s.kind == kindLong:
		s.logical = logicalLocalTimestampMillis
	case lt == "local-timestamp-micros" && s.kind == kindLong:
		s.logical = logicalLocalTimestampMicros
	case lt == "uuid" && (s.kind == kindString || (s.kind == kindFixed && s.size == 16)):
		s.logical = logicalUUID
	}
	return nil
}

func decimalParams(m map[string]any) (prec, scale int, err error) {
	prec, ok, err := intAttr(m, "precision")
	if err != nil {
		return 0, 0, fmt.Errorf("decimal: %w", err)
	}
	if !ok || prec < 1 || prec > maxPrecision {
		return 0, 0, fmt.Errorf("decimal needs a precision between 1 and %d", maxPrecision)
	}
	scale, _, err = intAttr(m, "scale")
	if err != nil {
		return 0, 0, fmt.Errorf("decimal: %w", err)
	}
	if scale < 0 || scale > prec {
		return 0, 0, fmt.Errorf("decimal scale %d is not between 0 and the precision %d", scale, prec)
	}
	return prec, scale, nil
}

// maxFixedPrecision is the largest decimal precision a fixed of size bytes holds.
func maxFixedPrecision(size int) int {
	if size <= 0 {
		return 0
	}
	if size > 64 {
		size = 64
	}
	limit := new(big.Int).Lsh(big.NewInt(1), uint(8*size-1))
	limit.Sub(limit, big.NewInt(1))
	return len(limit.String()) - 1
}

func intAttr(m map[string]any, key string) (int, bool, error) {
	v, ok := m[key]
	if !ok {
		return 0, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false, fmt.Errorf("%q must be a number", key)
	}
	i, err := n.Int64()
	if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, false, fmt.Errorf("%q must be an integer, not %s", key, n)
	}
	return int(i), true, nil
}

// compactJSON is used in error messages only.
func compactJSON(text string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(text)) != nil || b.Len() > 200 {
		if len(text) > 200 {
			return text[:200] + "…"
		}
		return text
	}
	return b.String()
}
