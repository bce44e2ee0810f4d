// Package avroparquet maps Avro schemas to Parquet and Iceberg schemas, converts
// goavro native values into parquet.Rows, and writes Parquet files.
//
// Type mapping (Avro → Parquet / Iceberg):
//
//	null (field type)          → field left out (it holds nothing)
//	boolean                    → BOOLEAN / boolean
//	int, long                  → INT32, INT64 / int, long
//	float, double              → FLOAT, DOUBLE / float, double
//	string                     → BYTE_ARRAY STRING / string
//	bytes                      → BYTE_ARRAY / binary
//	enum                       → BYTE_ARRAY STRING / string (STRING, not ENUM: Arrow-based readers, iceberg-go among them, read ENUM as binary)
//	fixed(n)                   → FIXED_LEN_BYTE_ARRAY(n) / fixed[n]
//	record                     → group / struct (field order kept)
//	array                      → LIST (3-level: list.element) / list
//	map                        → MAP (key_value.key, key_value.value) / map<string, …>
//	["null", X], [X]           → X, optional when null is a branch
//	other unions               → group of optional fields, one per non-null branch / struct
//	decimal(p ≤ 9)             → INT32 DECIMAL / decimal(p,s)
//	decimal(p ≤ 18)            → INT64 DECIMAL / decimal(p,s)
//	decimal(p ≤ 38)            → FIXED_LEN_BYTE_ARRAY(minimal bytes) DECIMAL / decimal(p,s)
//	decimal(p > 38)            → STRING holding the exact plain decimal text / string (Iceberg stops at 38)
//	date                       → INT32 DATE / date
//	time-millis, time-micros   → INT64 TIME(MICROS, isAdjustedToUTC=false) / time
//	timestamp-millis, -micros  → INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true) / timestamptz
//	local-timestamp-millis/-micros → INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false) / timestamp
//	uuid on string             → STRING / string
//	uuid on fixed(16)          → FIXED_LEN_BYTE_ARRAY(16) UUID / uuid
//
// Milliseconds are widened to microseconds because Iceberg only has microsecond
// times and timestamps. Unknown logical types fall back to their underlying type.
//
// Every Parquet field carries a field id. Without Options.Base the ids are
// assigned in depth-first pre-order starting at 1 (a field, then everything
// inside it, then the next field; a list's element and a map's key and value
// count as fields), which is the order iceberg-go's AssignFreshSchemaIDs uses,
// so creating an Iceberg table from IcebergSchema keeps them.
package avroparquet

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/apache/iceberg-go"
	"github.com/parquet-go/parquet-go"
)

// Options tunes New. The zero value is ready to use.
type Options struct {
	// Base, when set, is the current Iceberg schema of the table the files go to.
	// A field whose Iceberg name path ("a.b", "tags.element", "attrs.key",
	// "attrs.value") exists in Base keeps Base's field id; other fields get new
	// ids, counting up from max(LastColumnID, Base.HighestFieldID()) + 1 in
	// pre-order. The table must then take IcebergSchema() as it is (ids included).
	Base *iceberg.Schema
	// LastColumnID is the table's last assigned column id ("last-column-id");
	// only used with Base.
	LastColumnID int
}

// Converter maps one Avro writer schema to Parquet and converts its values.
// It is safe for concurrent use.
type Converter struct {
	avro    string
	root    *node
	schema  *parquet.Schema
	iceberg *iceberg.Schema
	numCols int
	direct  bool // depth-first value order equals column order (no multi-column repetition)
	pool    sync.Pool
}

type nodeKind uint8

const (
	nodeLeaf nodeKind = iota
	nodeRecord
	nodeList
	nodeMap
	nodeUnion
)

type leafKind uint8

const (
	leafBool leafKind = iota
	leafInt32
	leafInt64
	leafFloat
	leafDouble
	leafString
	leafBytes
	leafEnum
	leafFixed
	leafUUIDFixed
	leafDecimal32
	leafDecimal64
	leafDecimalFixed
	leafDecimalString
	leafDate
	leafTimeMillis
	leafTimeMicros
	leafTimestampMillis
	leafTimestampMicros
	leafLocalTimestampMillis
	leafLocalTimestampMicros
)

// node is one compiled step of the conversion plan.
type node struct {
	kind nodeKind
	leaf leafKind

	name string // key in the parent record's map ("" for list elements and map values)
	path string // for errors: a.b[].c

	optional bool     // nil is a valid value (null branch in the union)
	wrapped  bool     // the value arrives as a goavro union wrapper map[string]any{branch: v}
	wrapKeys []string // wrapped single-branch: the keys accepted for the branch
	bare     bool     // wrapped single-branch: a bare (unwrapped) value is accepted too
	branches map[string]int
	children []*node

	col      int // leaf column; map key column
	firstCol int // leaf columns under this node: [firstCol, endCol)
	endCol   int
	nullDef  int // definition level of a null here (= the parent's definition level)
	def      int // definition level when present
	rep      int // list/map: repetition level of the 2nd and later entries

	// leaf parameters
	size      int
	precision int
	scale     int
	limit     *big.Int // decimal: 10^precision
	symbols   map[string]struct{}
}

// New builds the conversion of one Avro writer schema (JSON text, as from the registry).
func New(avroSchema string, opts Options) (conv *Converter, err error) {
	defer func() {
		// parquet-go and iceberg-go constructors panic on inputs the checks in
		// newConverter should already reject; turn any such miss into an error.
		if r := recover(); r != nil {
			conv, err = nil, fmt.Errorf("avroparquet: schema %s: %w: %v", compactJSON(avroSchema), ErrInternal, r)
		}
	}()
	return newConverter(avroSchema, opts)
}

// ErrInternal marks an error New recovered from a panic in a library it builds
// on: a schema the checks should have rejected with a proper message.
var ErrInternal = errors.New("internal error")

func newConverter(avroSchema string, opts Options) (*Converter, error) {
	s, err := parseAvro(avroSchema)
	if err != nil {
		return nil, fmt.Errorf("avroparquet: %w", err)
	}
	if s.kind != kindRecord {
		return nil, fmt.Errorf("avroparquet: the top-level schema must be a record, not %s", s.kind)
	}
	b := &builder{base: opts.Base}
	if opts.Base != nil {
		b.next = max(opts.LastColumnID, opts.Base.HighestFieldID())
	}
	root, pnode, fields, err := b.record(s, "", "", 0, 0, false)
	if err != nil {
		return nil, fmt.Errorf("avroparquet: %w", err)
	}
	if b.col > parquet.MaxColumnIndex {
		return nil, fmt.Errorf("avroparquet: %d columns, more than Parquet's %d", b.col, parquet.MaxColumnIndex)
	}
	c := &Converter{
		avro:    avroSchema,
		root:    root,
		schema:  parquet.NewSchema(s.name, pnode),
		iceberg: iceberg.NewSchema(0, fields...),
		numCols: b.col,
		direct:  !b.multiColumnRepeat,
	}
	c.pool.New = func() any { return &state{cols: make([][]parquet.Value, c.numCols)} }
	return c, nil
}

// Schema returns the Parquet schema (columns in Avro field order, field ids set).
func (c *Converter) Schema() *parquet.Schema { return c.schema }

// IcebergSchema returns the Iceberg schema: the same field ids and names as the
// Parquet schema, Avro non-null fields required.
func (c *Converter) IcebergSchema() *iceberg.Schema { return c.iceberg }

// AvroSchema returns the Avro schema text c was built from.
func (c *Converter) AvroSchema() string { return c.avro }

// NumColumns returns the number of Parquet leaf columns.
func (c *Converter) NumColumns() int { return c.numCols }

// FieldError reports a value that does not fit its field; Path names the field
// (a.b[2].c, m["key"], u<string>).
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string {
	p := e.Path
	if p == "" {
		p = "(record)"
	}
	return "avroparquet: field " + p + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

// ErrMismatch is wrapped by every FieldError: the value does not fit the schema.
var ErrMismatch = errors.New("value does not fit the schema")

type mismatch struct{ msg string }

func (m *mismatch) Error() string { return m.msg }
func (m *mismatch) Is(target error) bool {
	return target == ErrMismatch
}

func (n *node) fail(format string, args ...any) error {
	return &FieldError{Path: n.path, Err: &mismatch{msg: fmt.Sprintf(format, args...)}}
}

// renamePath rewrites the path of an error raised below prefix (a list element or
// map value, written with [] or {}) to carry the index or key.
func renamePath(err error, from, to string) error {
	var fe *FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Path, from) {
		fe.Path = to + fe.Path[len(from):]
	}
	return err
}
