package avroparquet

import (
	"slices"
	"strconv"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// state is the scratch space of one AppendRow call.
type state struct {
	direct bool
	row    parquet.Row       // direct mode: values appended in column order
	cols   [][]parquet.Value // otherwise: values per column, concatenated at the end
	keys   []string          // map keys being sorted (a stack: nested maps append above)
}

// put appends v with its levels. (The in-place setters inline; Value.Level does not.)
func (st *state) put(v parquet.Value, rep, def, col int) {
	v.SetRepetitionLevel(rep)
	v.SetDefinitionLevel(def)
	v.SetColumnIndex(col)
	if st.direct {
		st.row = append(st.row, v)
	} else {
		st.cols[col] = append(st.cols[col], v)
	}
}

// nulls writes a null at definition level def into every column under n.
func (st *state) nulls(n *node, rep, def int) {
	for col := n.firstCol; col < n.endCol; col++ {
		st.put(parquet.Value{}, rep, def, col)
	}
}

// AppendRow converts one goavro native value (the decoded record: map[string]any
// with union wrappers) and appends it to rows. A value that does not fit (wrong
// Go type, unknown union branch, decimal out of range, missing required field) is
// a *FieldError naming the field path, and rows is returned unchanged — never a
// zero-valued row.
//
// The row refers to the strings and byte slices of native (nothing is copied):
// keep native unchanged until the row is written. AppendRow reuses the memory of
// the rows between len(rows) and cap(rows), so after WriteRows the usual
// rows = rows[:0] makes the next batch allocation-free.
func (c *Converter) AppendRow(rows []parquet.Row, native any) ([]parquet.Row, error) {
	var buf parquet.Row
	if n := len(rows); n < cap(rows) {
		buf = rows[:n+1][n][:0]
	}
	if buf == nil {
		buf = make(parquet.Row, 0, c.numCols)
	}
	if c.direct {
		st := state{direct: true, row: buf}
		if err := c.write(&st, c.root, native, 0); err != nil {
			return rows, err
		}
		return append(rows, st.row), nil
	}
	st := c.pool.Get().(*state)
	defer c.pool.Put(st)
	for i := range st.cols {
		st.cols[i] = st.cols[i][:0]
	}
	st.keys = st.keys[:0]
	if err := c.write(st, c.root, native, 0); err != nil {
		return rows, err
	}
	for _, col := range st.cols {
		buf = append(buf, col...)
	}
	return append(rows, buf), nil
}

// ConvertRow is AppendRow for a single row.
func (c *Converter) ConvertRow(native any) (parquet.Row, error) {
	rows, err := c.AppendRow(nil, native)
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// unwrap removes a goavro union wrapper around v.
func (n *node) unwrap(v any) (any, error) {
	m, ok := v.(map[string]any)
	if ok && len(m) == 1 {
		if inner, ok := m[n.wrapKeys[0]]; ok {
			return inner, nil
		}
		for _, k := range n.wrapKeys[1:] {
			if inner, ok := m[k]; ok {
				return inner, nil
			}
		}
		if n.kind != nodeRecord && n.kind != nodeMap {
			for k := range m {
				return nil, n.fail("unknown union branch %q (want %q)", k, n.wrapKeys[0])
			}
		}
	}
	return v, nil // a bare value
}

func (c *Converter) write(st *state, n *node, v any, rep int) error {
	if v != nil && n.wrapped && n.bare {
		var err error
		if v, err = n.unwrap(v); err != nil {
			return err
		}
	}
	if v == nil {
		if n.optional {
			st.nulls(n, rep, n.nullDef)
			return nil
		}
		return n.fail("missing value for a required field")
	}
	switch n.kind {
	case nodeLeaf:
		pv, err := n.value(v)
		if err != nil {
			return err
		}
		st.put(pv, rep, n.def, n.col)
		return nil

	case nodeRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return n.fail("want a record (map[string]any), got %T", v)
		}
		for _, ch := range n.children {
			if err := c.write(st, ch, m[ch.name], rep); err != nil {
				return err
			}
		}
		return nil

	case nodeList:
		a, ok := v.([]any)
		if !ok {
			return n.fail("want an array ([]any), got %T", v)
		}
		if len(a) == 0 {
			st.nulls(n, rep, n.def)
			return nil
		}
		elem := n.children[0]
		r := rep
		for i, e := range a {
			if err := c.write(st, elem, e, r); err != nil {
				return renamePath(err, elem.path, n.path+"["+strconv.Itoa(i)+"]")
			}
			r = n.rep
		}
		return nil

	case nodeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return n.fail("want a map (map[string]any), got %T", v)
		}
		if len(m) == 0 {
			st.nulls(n, rep, n.def)
			return nil
		}
		// Sorted keys: the same record always gives the same bytes.
		start := len(st.keys)
		for k := range m {
			st.keys = append(st.keys, k)
		}
		slices.Sort(st.keys[start:])
		val := n.children[0]
		r := rep
		for i := start; i < start+len(m); i++ {
			k := st.keys[i]
			st.put(stringValue(k), r, n.def+1, n.col)
			if err := c.write(st, val, m[k], r); err != nil {
				st.keys = st.keys[:start]
				return renamePath(err, val.path, n.path+"["+strconv.Quote(k)+"]")
			}
			r = n.rep
		}
		st.keys = st.keys[:start]
		return nil

	case nodeUnion:
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return n.fail("want a union value (map[string]any with one branch), got %T", v)
		}
		var branch string
		var inner any
		for branch, inner = range m {
		}
		idx, ok := n.branches[branch]
		if !ok {
			return n.fail("unknown union branch %q", branch)
		}
		if inner == nil {
			return n.fail("union branch %q holds nil", branch)
		}
		for i, ch := range n.children {
			if i == idx {
				if err := c.write(st, ch, inner, rep); err != nil {
					return err
				}
			} else {
				st.nulls(ch, rep, ch.nullDef)
			}
		}
		return nil
	}
	return n.fail("internal: unknown node kind %d", n.kind)
}

// stringValue refers to the bytes of s without copying them; parquet-go only
// reads them (the writer copies values into its buffers).
func stringValue(s string) parquet.Value {
	return parquet.ByteArrayValue(stringBytes(s))
}

func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s)) //nolint:gosec // G103: read-only view, see stringValue
}
