// Package envelope builds riacho's change events in the Debezium envelope:
// the Avro key and value schemas of a captured table, its topic name, and the
// goavro native form of each event.
//
// The value schema follows Debezium's layout so existing consumers read it
// unchanged: a record with before and after (the row, both nullable), source
// (where the change came from: connector, database, schema, table, LSN,
// transaction id, snapshot marker, commit time), op (c, u, d, r or t) and
// ts_ms (when riacho processed it). riacho adds one field, unchanged: the
// columns whose value the source did not send (PostgreSQL's unchanged TOAST
// values), so a consumer never mistakes a missing value for a null.
//
// Every column is nullable with a null default, so adding a column to a
// table gives a new schema version that is compatible both ways. Key fields
// are not nullable.
package envelope

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Version is the envelope layout version written in source.version.
const Version = "riacho-cdc/1"

// Unavailable is Debezium's placeholder for a value the source did not
// send; string and bytes columns listed in Event.Unchanged carry it.
const Unavailable = "__debezium_unavailable_value"

// Op is the kind of change.
type Op byte

// The change kinds, as Debezium writes them in op.
const (
	OpCreate   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpRead     Op = 'r' // a snapshot read or a row seen for the first time
	OpTruncate Op = 't'
)

// Valid reports whether o is one of the known kinds.
func (o Op) Valid() bool {
	switch o {
	case OpCreate, OpUpdate, OpDelete, OpRead, OpTruncate:
		return true
	}
	return false
}

func (o Op) String() string { return string(rune(o)) }

// Row maps a column name to its value; nil is SQL NULL. Values take the Go
// form goavro expects for the column's Avro type (see the package README).
type Row map[string]any

// Field is one captured column.
type Field struct {
	// Name is the column name as in the source.
	Name string
	// Type is the Avro schema of the column's non-null type: a primitive
	// name ("long") or a schema object (map[string]any) such as a decimal.
	Type any
	// SourceType is the source's type name, kept in the field's doc.
	SourceType string
}

// Table describes one captured table or entity.
type Table struct {
	Source    string // riacho source name: the topic's second part
	Connector string // "postgresql", "sapb1", "ploomes", "sql"
	DB        string // database, company or account
	Schema    string // PostgreSQL schema; for REST sources the service
	Name      string // table or entity
	Columns   []Field
	Key       []string // primary-key columns (each in Columns); empty: no key

	cache *layout // set by Compile
}

// Topic is the table's topic: raw.<source>.<schema>.<table>, or
// raw.<source>.<table> when Schema is empty. Characters Kafka does not allow
// in topic names become '_'.
func (t *Table) Topic() string {
	parts := []string{"raw", t.Source}
	if t.Schema != "" {
		parts = append(parts, t.Schema)
	}
	parts = append(parts, t.Name)
	for i, p := range parts {
		parts[i] = topicPart(p)
	}
	return strings.Join(parts, ".")
}

// ID is "<schema>.<table>" (or the table alone), the name operators use.
func (t *Table) ID() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

func topicPart(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// avroName turns s into a valid Avro name: [A-Za-z_][A-Za-z0-9_]*.
func avroName(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// namespace is the Avro namespace of t's records.
func (t *Table) namespace() string {
	parts := []string{"riacho", avroName(t.Source)}
	if t.Schema != "" {
		parts = append(parts, avroName(t.Schema))
	}
	return strings.Join(append(parts, avroName(t.Name)), ".")
}

// layout is the compiled shape of a table: Avro field names per column and
// the union branch names goavro wants for each value.
type layout struct {
	fields   []fieldLayout
	byColumn map[string]int
	key      []int
	ns       string
	value    map[string]any // the Value record schema
	keyRec   map[string]any // the Key record schema, nil without a key
}

type fieldLayout struct {
	column string
	name   string // Avro field name
	typ    any    // Avro type, named types already defined expanded once
	branch string // union branch name for the nullable value
	kind   string // base Avro type: "string", "bytes", ...
	// elem is the union branch of a nullable array item type
	// (items ["null", X]): Row holds plain elements, goavro wants them
	// wrapped.
	elem string
}

// compile checks t and derives its layout.
func (t *Table) compile() (*layout, error) {
	if t.Source == "" || t.Name == "" {
		return nil, errors.New("envelope: table needs a source and a name")
	}
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("envelope: table %s has no columns", t.ID())
	}
	l := &layout{byColumn: make(map[string]int, len(t.Columns)), ns: t.namespace()}
	used := map[string]bool{}
	defined := map[string]bool{}
	var fields []any
	for i, c := range t.Columns {
		if _, dup := l.byColumn[c.Name]; dup {
			return nil, fmt.Errorf("envelope: table %s: column %q twice", t.ID(), c.Name)
		}
		name := avroName(c.Name)
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s_%d", avroName(c.Name), n)
		}
		used[name] = true
		typ, err := normalise(c.Type, l.ns, defined)
		if err != nil {
			return nil, fmt.Errorf("envelope: table %s column %q: %w", t.ID(), c.Name, err)
		}
		branch, kind, err := branchName(typ, l.ns)
		if err != nil {
			return nil, fmt.Errorf("envelope: table %s column %q: %w", t.ID(), c.Name, err)
		}
		elem, err := itemBranch(typ, l.ns)
		if err != nil {
			return nil, fmt.Errorf("envelope: table %s column %q: %w", t.ID(), c.Name, err)
		}
		l.fields = append(l.fields, fieldLayout{column: c.Name, name: name, typ: typ, branch: branch, kind: kind, elem: elem})
		l.byColumn[c.Name] = i
		f := map[string]any{"name": name, "type": []any{"null", typ}, "default": nil}
		if doc := fieldDoc(c); doc != "" {
			f["doc"] = doc
		}
		fields = append(fields, f)
	}
	l.value = map[string]any{"type": "record", "name": "Value", "namespace": l.ns, "fields": fields}
	if len(t.Key) > 0 {
		var kf []any
		for _, k := range t.Key {
			i, ok := l.byColumn[k]
			if !ok {
				return nil, fmt.Errorf("envelope: table %s: key column %q is not a column", t.ID(), k)
			}
			l.key = append(l.key, i)
			// Key types are defined afresh inside the Key record, which is
			// its own schema.
			typ, err := normalise(t.Columns[i].Type, l.ns, map[string]bool{})
			if err != nil {
				return nil, fmt.Errorf("envelope: table %s key %q: %w", t.ID(), k, err)
			}
			kf = append(kf, map[string]any{"name": l.fields[i].name, "type": typ})
		}
		l.keyRec = map[string]any{"type": "record", "name": "Key", "namespace": l.ns, "fields": kf}
	}
	return l, nil
}

func fieldDoc(c Field) string {
	var parts []string
	if c.Name != avroName(c.Name) {
		parts = append(parts, "column "+c.Name)
	}
	if c.SourceType != "" {
		parts = append(parts, c.SourceType)
	}
	return strings.Join(parts, "; ")
}

// normalise deep-copies an Avro type given as a Go value (string, map or
// slice, as from JSON), and replaces a named type defined earlier by its
// name: Avro forbids defining one name twice in a schema.
func normalise(t any, ns string, defined map[string]bool) (any, error) {
	switch v := t.(type) {
	case string:
		if v == "" {
			return nil, errors.New("empty type")
		}
		return v, nil
	case map[string]any:
		typ, _ := v["type"].(string)
		switch typ {
		case "record", "enum", "fixed":
			full := fullName(v, ns)
			if defined[full] {
				return full, nil
			}
			defined[full] = true
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			switch k {
			case "items", "values":
				n, err := normalise(x, ns, defined)
				if err != nil {
					return nil, err
				}
				out[k] = n
			case "fields":
				fs, ok := x.([]any)
				if !ok {
					return nil, errors.New("record fields must be a list")
				}
				cp := make([]any, len(fs))
				for i, f := range fs {
					fm, ok := f.(map[string]any)
					if !ok {
						return nil, errors.New("record field must be an object")
					}
					nf := make(map[string]any, len(fm))
					for fk, fv := range fm {
						nf[fk] = fv
					}
					n, err := normalise(fm["type"], ns, defined)
					if err != nil {
						return nil, err
					}
					nf["type"] = n
					cp[i] = nf
				}
				out[k] = cp
			default:
				out[k] = x
			}
		}
		if _, ok := out["type"]; !ok {
			return nil, errors.New("type object without \"type\"")
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			n, err := normalise(x, ns, defined)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unsupported Avro type value %T", t)
	}
}

func fullName(m map[string]any, ns string) string {
	name, _ := m["name"].(string)
	if strings.Contains(name, ".") {
		return name
	}
	if n, ok := m["namespace"].(string); ok {
		ns = n
	}
	if ns == "" {
		return name
	}
	return ns + "." + name
}

// knownLogical are the logical types goavro implements; it treats others as
// their underlying type, and so names the union branch after that type.
var knownLogical = map[string]bool{
	"bytes.decimal": true, "fixed.decimal": true,
	"long.timestamp-millis": true, "long.timestamp-micros": true,
	"int.time-millis": true, "long.time-micros": true, "int.date": true,
}

// branchName is the name goavro gives the union branch of type t, and its
// base Avro type.
func branchName(t any, ns string) (branch, kind string, err error) {
	switch v := t.(type) {
	case string:
		switch v {
		case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
			return v, v, nil
		}
		// A reference to a named type.
		if !strings.Contains(v, ".") && ns != "" {
			v = ns + "." + v
		}
		return v, "named", nil
	case map[string]any:
		typ, _ := v["type"].(string)
		switch typ {
		case "record", "enum", "fixed":
			if lt, _ := v["logicalType"].(string); typ == "fixed" && lt == "decimal" {
				return "fixed.decimal", typ, nil
			}
			return fullName(v, ns), typ, nil
		case "array", "map":
			return typ, typ, nil
		case "":
			return "", "", errors.New("type object without a type name")
		}
		if lt, _ := v["logicalType"].(string); lt != "" && knownLogical[typ+"."+lt] {
			return typ + "." + lt, typ, nil
		}
		return branchName(typ, ns)
	case []any:
		return "", "", errors.New("a column type cannot be a union; give the non-null type")
	}
	return "", "", fmt.Errorf("unsupported Avro type value %T", t)
}

// itemBranch is the branch name of X for an array type with items
// ["null", X], "" for any other type.
func itemBranch(t any, ns string) (string, error) {
	m, ok := t.(map[string]any)
	if !ok || m["type"] != "array" {
		return "", nil
	}
	u, ok := m["items"].([]any)
	if !ok {
		return "", nil
	}
	if len(u) != 2 || u[0] != "null" {
		return "", errors.New(`array items may be a union only as ["null", X]`)
	}
	b, _, err := branchName(u[1], ns)
	return b, err
}

// ValueSchema is the Avro schema (JSON) of t's change events.
func (t *Table) ValueSchema() (string, error) {
	l, err := t.compile()
	if err != nil {
		return "", err
	}
	return l.valueSchema()
}

func (l *layout) valueSchema() (string, error) {
	nullableLong := []any{"null", "long"}
	nullableString := []any{"null", "string"}
	source := map[string]any{
		"type": "record", "name": "Source", "namespace": "riacho.cdc",
		"fields": []any{
			map[string]any{"name": "version", "type": "string"},
			map[string]any{"name": "connector", "type": "string"},
			map[string]any{"name": "name", "type": "string"},
			map[string]any{"name": "ts_ms", "type": "long"},
			map[string]any{"name": "snapshot", "type": nullableString, "default": nil},
			map[string]any{"name": "db", "type": "string"},
			map[string]any{"name": "schema", "type": "string"},
			map[string]any{"name": "table", "type": "string"},
			map[string]any{"name": "txId", "type": nullableLong, "default": nil},
			map[string]any{"name": "lsn", "type": nullableLong, "default": nil},
			map[string]any{"name": "cursor", "type": nullableString, "default": nil},
		},
	}
	env := map[string]any{
		"type": "record", "name": "Envelope", "namespace": l.ns,
		"fields": []any{
			map[string]any{"name": "before", "type": []any{"null", l.value}, "default": nil},
			map[string]any{"name": "after", "type": []any{"null", "Value"}, "default": nil},
			map[string]any{"name": "source", "type": source},
			map[string]any{"name": "op", "type": "string"},
			map[string]any{"name": "ts_ms", "type": nullableLong, "default": nil},
			map[string]any{"name": "unchanged", "type": map[string]any{"type": "array", "items": "string"}, "default": []any{}},
		},
	}
	b, err := json.Marshal(env)
	return string(b), err
}

// KeySchema is the Avro schema (JSON) of t's record keys, "" without a key.
func (t *Table) KeySchema() (string, error) {
	l, err := t.compile()
	if err != nil {
		return "", err
	}
	if l.keyRec == nil {
		return "", nil
	}
	b, err := json.Marshal(l.keyRec)
	return string(b), err
}

// SourceInfo says where a change came from.
type SourceInfo struct {
	Version, Connector, Name, DB, Schema, Table string
	TsMs                                        int64  // source commit or change time, ms since the epoch; 0 unknown
	Snapshot                                    string // "false", "true", "first", "last", "incremental"; "" null
	LSN                                         int64  // PostgreSQL LSN; 0 null
	TxID                                        int64  // transaction id; 0 null
	Cursor                                      string // cursor sources: this row's cursor position; "" null
}

// Event is one change.
type Event struct {
	Op        Op
	Before    Row // nil: null
	After     Row // nil: null
	Unchanged []string
	Source    SourceInfo
	TsMs      int64 // when riacho processed it
}
