package duck

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// kind is an Avro type.
type kind uint8

const (
	kNull kind = iota
	kBoolean
	kInt
	kLong
	kFloat
	kDouble
	kBytes
	kString
	kRecord
	kEnum
	kArray
	kMap
	kUnion
	kFixed
)

// logical is an Avro logical type that riacho maps; others are ignored, as
// the Avro specification asks.
type logical uint8

const (
	lNone logical = iota
	lDecimal
	lUUID
	lDate
	lTimeMillis
	lTimeMicros
	lTSMillis
	lTSMicros
	lTSNanos
	lLocalMillis
	lLocalMicros
	lLocalNanos
)

// afield is one record field.
type afield struct {
	name string
	typ  *atype
}

// atype is one parsed Avro type. Named types are shared by pointer, so a
// recursive schema is a cyclic graph.
type atype struct {
	kind      kind
	logical   logical
	name      string   // full name of records, enums and fixed
	precision int      // decimal
	limit     *big.Int // decimal: 10^precision
	scale     int      // decimal
	size      int      // fixed
	fields    []afield
	symbols   []string
	items     *atype   // array items, map values
	branches  []*atype // union
	min       int      // minimum encoded size, see minSize
	minState  uint8    // 0 unknown, 1 computing, 2 done
}

var primitiveKinds = map[string]kind{
	"null": kNull, "boolean": kBoolean, "int": kInt, "long": kLong, "float": kFloat,
	"double": kDouble, "bytes": kBytes, "string": kString,
}

// schemaParser parses one schema document, keeping its named types.
type schemaParser struct {
	named map[string]*atype
}

// parseSchema parses an Avro schema JSON document.
func parseSchema(schemaJSON string) (*atype, error) {
	var v any
	if err := json.Unmarshal([]byte(schemaJSON), &v); err != nil {
		return nil, fmt.Errorf("%w: parse json: %w", ErrSchema, err)
	}
	p := &schemaParser{named: map[string]*atype{}}
	t, err := p.parse(v, "")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	t.minSize()
	return t, nil
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func (p *schemaParser) lookup(name, ns string) (*atype, error) {
	if t, ok := p.named[fullName(name, ns)]; ok {
		return t, nil
	}
	if t, ok := p.named[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown type %q", name)
}

func (p *schemaParser) parse(v any, ns string) (*atype, error) {
	switch t := v.(type) {
	case string:
		if k, ok := primitiveKinds[t]; ok {
			return &atype{kind: k}, nil
		}
		return p.lookup(t, ns)
	case []any:
		u := &atype{kind: kUnion}
		for _, b := range t {
			c, err := p.parse(b, ns)
			if err != nil {
				return nil, err
			}
			if c.kind == kUnion {
				return nil, fmt.Errorf("union directly inside a union")
			}
			u.branches = append(u.branches, c)
		}
		if len(u.branches) == 0 {
			return nil, fmt.Errorf("empty union")
		}
		return u, nil
	case map[string]any:
		return p.parseComplex(t, ns)
	}
	return nil, fmt.Errorf("unexpected schema element %T", v)
}

// define registers a named type and returns the namespace its members use.
func (p *schemaParser) define(t *atype, m map[string]any, ns string) (string, error) {
	name, _ := m["name"].(string)
	if name == "" {
		return "", fmt.Errorf("%s without a name", kindName(t.kind))
	}
	if s, ok := m["namespace"].(string); ok && !strings.Contains(name, ".") {
		ns = s
	}
	t.name = fullName(name, ns)
	if _, dup := p.named[t.name]; dup {
		return "", fmt.Errorf("type %q defined twice", t.name)
	}
	p.named[t.name] = t
	if i := strings.LastIndexByte(t.name, '.'); i >= 0 {
		return t.name[:i], nil
	}
	return "", nil
}

func (p *schemaParser) parseComplex(m map[string]any, ns string) (*atype, error) {
	typ, ok := m["type"].(string)
	if !ok {
		// {"type": {...}} or {"type": [...]} wraps another type.
		if m["type"] == nil {
			return nil, fmt.Errorf("schema object without a type")
		}
		return p.parse(m["type"], ns)
	}
	lt, _ := m["logicalType"].(string)
	if k, ok := primitiveKinds[typ]; ok {
		t := &atype{kind: k}
		setLogical(t, lt, m)
		return t, nil
	}
	switch typ {
	case "record", "error":
		t := &atype{kind: kRecord}
		fns, err := p.define(t, m, ns)
		if err != nil {
			return nil, err
		}
		fields, ok := m["fields"].([]any)
		if !ok {
			return nil, fmt.Errorf("record %q without fields", t.name)
		}
		seen := map[string]bool{}
		for _, f := range fields {
			fm, ok := f.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("record %q: field is not an object", t.name)
			}
			name, _ := fm["name"].(string)
			if name == "" || seen[name] {
				return nil, fmt.Errorf("record %q: missing or duplicate field name %q", t.name, name)
			}
			seen[name] = true
			c, err := p.parse(fm["type"], fns)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", name, err)
			}
			t.fields = append(t.fields, afield{name: name, typ: c})
		}
		return t, nil
	case "enum":
		t := &atype{kind: kEnum}
		if _, err := p.define(t, m, ns); err != nil {
			return nil, err
		}
		syms, _ := m["symbols"].([]any)
		for _, s := range syms {
			str, ok := s.(string)
			if !ok {
				return nil, fmt.Errorf("enum %q: symbol is not a string", t.name)
			}
			t.symbols = append(t.symbols, str)
		}
		return t, nil
	case "fixed":
		t := &atype{kind: kFixed}
		size, ok := m["size"].(float64)
		if !ok || size < 0 || size != float64(int(size)) {
			return nil, fmt.Errorf("fixed without a valid size")
		}
		t.size = int(size)
		if _, err := p.define(t, m, ns); err != nil {
			return nil, err
		}
		setLogical(t, lt, m)
		return t, nil
	case "array", "map":
		t := &atype{kind: kArray}
		key := "items"
		if typ == "map" {
			t.kind, key = kMap, "values"
		}
		c, err := p.parse(m[key], ns)
		if err != nil {
			return nil, err
		}
		t.items = c
		return t, nil
	}
	return p.lookup(typ, ns)
}

func kindName(k kind) string {
	return [...]string{"null", "boolean", "int", "long", "float", "double", "bytes", "string",
		"record", "enum", "array", "map", "union", "fixed"}[k]
}

// minSize is a lower bound of t's encoded length in bytes; a type still
// being computed (recursion) counts as 0, which keeps it a lower bound.
func (t *atype) minSize() int {
	switch t.minState {
	case 1:
		return 0
	case 2:
		return t.min
	}
	t.minState = 1
	n := 0
	switch t.kind {
	case kNull:
	case kFloat:
		n = 4
	case kDouble:
		n = 8
	case kFixed:
		n = t.size
	case kRecord:
		for _, f := range t.fields {
			n += f.typ.minSize()
		}
	case kUnion:
		n = 1 << 30
		for _, b := range t.branches {
			n = min(n, b.minSize())
		}
		n++
	case kArray, kMap:
		t.items.minSize()
		n = 1
	default:
		n = 1
	}
	t.min, t.minState = n, 2
	return n
}
