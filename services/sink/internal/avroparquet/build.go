package avroparquet

import (
	"fmt"
	"math/big"

	"github.com/apache/iceberg-go"
	"github.com/parquet-go/parquet-go"
)

type builder struct {
	base              *iceberg.Schema
	next              int // last field id handed out
	col               int // next leaf column
	multiColumnRepeat bool
}

func (b *builder) id(icePath string) int {
	if b.base != nil {
		if f, ok := b.base.FindFieldByName(icePath); ok {
			return f.ID
		}
	}
	b.next++
	return b.next
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func isNullOnly(s *avroSchema) bool {
	if s.kind == kindNull {
		return true
	}
	if s.kind != kindUnion {
		return false
	}
	for _, b := range s.branches {
		if b.kind != kindNull {
			return false
		}
	}
	return true
}

// record compiles a record. It returns the plan node, the Parquet group and the Iceberg fields.
func (b *builder) record(s *avroSchema, path, icePath string, parentDef, parentRep int, optional bool) (*node, parquet.Node, []iceberg.NestedField, error) {
	n := &node{kind: nodeRecord, path: path, optional: optional, nullDef: parentDef, def: parentDef + b2i(optional), firstCol: b.col}
	var names []string
	var pnodes []parquet.Node
	var fields []iceberg.NestedField
	for _, f := range s.fields {
		if isNullOnly(f.typ) {
			continue // a field that can only be null stores nothing
		}
		fpath := join(path, f.name)
		fice := join(icePath, f.name)
		id := b.id(fice)
		child, pn, it, err := b.field(f.typ, fpath, fice, n.def, parentRep)
		if err != nil {
			return nil, nil, nil, err
		}
		child.name = f.name
		n.children = append(n.children, child)
		names = append(names, f.name)
		pnodes = append(pnodes, parquet.FieldID(pn, id))
		fields = append(fields, iceberg.NestedField{ID: id, Name: f.name, Type: it, Required: !child.optional, Doc: f.doc})
	}
	if len(n.children) == 0 {
		return nil, nil, nil, fmt.Errorf("record %s has no field that can hold data (Parquet groups cannot be empty)", s.fullName)
	}
	n.endCol = b.col
	return n, newOrderedGroup(names, pnodes), fields, nil
}

// field compiles the type of a field, list element or map value, resolving unions.
// The Parquet node is wrapped Optional when nil is allowed.
func (b *builder) field(s *avroSchema, path, icePath string, parentDef, parentRep int) (*node, parquet.Node, iceberg.Type, error) {
	if s.kind != kindUnion {
		return b.typ(s, path, icePath, parentDef, parentRep, false)
	}
	var nonNull []*avroSchema
	hasNull := false
	for _, br := range s.branches {
		if br.kind == kindNull {
			hasNull = true
		} else {
			nonNull = append(nonNull, br)
		}
	}
	switch len(nonNull) {
	case 0:
		return nil, nil, nil, fmt.Errorf("%s: a union of only null cannot be stored here", path)
	case 1:
		n, pn, it, err := b.typ(nonNull[0], path, icePath, parentDef, parentRep, hasNull)
		if err != nil {
			return nil, nil, nil, err
		}
		n.wrapped, n.bare, n.wrapKeys = true, true, wrapKeys(nonNull[0])
		return n, pn, it, nil
	}
	return b.union(nonNull, path, icePath, parentDef, parentRep, hasNull)
}

// wrapKeys lists the keys a goavro union wrapper may use for s.
func wrapKeys(s *avroSchema) []string {
	keys := []string{s.wrapKey}
	add := func(k string) {
		for _, have := range keys {
			if have == k {
				return
			}
		}
		keys = append(keys, k)
	}
	if s.fullName != "" {
		add(s.fullName)
		add(s.name)
	}
	add(s.kind.String())
	return keys
}

// branchName names the Parquet/Iceberg field of a union branch.
func branchName(s *avroSchema) string {
	if s.name != "" {
		return s.name
	}
	switch s.logical {
	case logicalDecimal:
		return "decimal"
	case logicalDate:
		return "date"
	case logicalTimeMillis:
		return "time_millis"
	case logicalTimeMicros:
		return "time_micros"
	case logicalTimestampMillis:
		return "timestamp_millis"
	case logicalTimestampMicros:
		return "timestamp_micros"
	}
	return s.kind.String()
}

func (b *builder) union(branches []*avroSchema, path, icePath string, parentDef, parentRep int, optional bool) (*node, parquet.Node, iceberg.Type, error) {
	n := &node{kind: nodeUnion, path: path, optional: optional, wrapped: true, nullDef: parentDef, def: parentDef + b2i(optional), firstCol: b.col, branches: make(map[string]int)}
	var names []string
	var pnodes []parquet.Node
	var fields []iceberg.NestedField
	seen := make(map[string]bool)
	for i, br := range branches {
		name := branchName(br)
		if seen[name] {
			return nil, nil, nil, fmt.Errorf("%s: two union branches would both be named %q", path, name)
		}
		seen[name] = true
		bpath := path + "<" + name + ">"
		bice := join(icePath, name)
		id := b.id(bice)
		child, pn, it, err := b.typ(br, bpath, bice, n.def, parentRep, true)
		if err != nil {
			return nil, nil, nil, err
		}
		n.children = append(n.children, child)
		for _, k := range wrapKeys(br) {
			if _, dup := n.branches[k]; !dup {
				n.branches[k] = i
			}
		}
		names = append(names, name)
		pnodes = append(pnodes, parquet.FieldID(pn, id))
		fields = append(fields, iceberg.NestedField{ID: id, Name: name, Type: it, Required: false})
	}
	n.endCol = b.col
	var pn parquet.Node = newOrderedGroup(names, pnodes)
	if optional {
		pn = parquet.Optional(pn)
	}
	return n, pn, &iceberg.StructType{FieldList: fields}, nil
}

// typ compiles a non-union type.
func (b *builder) typ(s *avroSchema, path, icePath string, parentDef, parentRep int, optional bool) (*node, parquet.Node, iceberg.Type, error) {
	def := parentDef + b2i(optional)
	if def > parquet.MaxDefinitionLevel-2 || parentRep > parquet.MaxRepetitionLevel-2 {
		return nil, nil, nil, fmt.Errorf("%s: nested too deeply for Parquet", path)
	}
	wrap := func(pn parquet.Node) parquet.Node {
		if optional {
			return parquet.Optional(pn)
		}
		return pn
	}
	switch s.kind {
	case kindRecord:
		n, pn, fields, err := b.record(s, path, icePath, parentDef, parentRep, optional)
		if err != nil {
			return nil, nil, nil, err
		}
		return n, wrap(pn), &iceberg.StructType{FieldList: fields}, nil

	case kindArray:
		if isNullOnly(s.items) {
			return nil, nil, nil, fmt.Errorf("%s: an array of null cannot be stored", path)
		}
		n := &node{kind: nodeList, path: path, optional: optional, nullDef: parentDef, def: def, rep: parentRep + 1, firstCol: b.col}
		eice := icePath + ".element"
		eid := b.id(eice)
		elem, pe, it, err := b.field(s.items, path+"[]", eice, def+1, parentRep+1)
		if err != nil {
			return nil, nil, nil, err
		}
		n.children = []*node{elem}
		n.endCol = b.col
		if n.endCol-n.firstCol > 1 {
			b.multiColumnRepeat = true
		}
		lt := &iceberg.ListType{ElementID: eid, Element: it, ElementRequired: !elem.optional}
		return n, wrap(parquet.List(parquet.FieldID(pe, eid))), lt, nil

	case kindMap:
		if isNullOnly(s.values) {
			return nil, nil, nil, fmt.Errorf("%s: a map of null cannot be stored", path)
		}
		n := &node{kind: nodeMap, path: path, optional: optional, nullDef: parentDef, def: def, rep: parentRep + 1, firstCol: b.col}
		kid := b.id(icePath + ".key")
		vice := icePath + ".value"
		vid := b.id(vice)
		n.col = b.col
		b.col++
		val, pv, it, err := b.field(s.values, path+"{}", vice, def+1, parentRep+1)
		if err != nil {
			return nil, nil, nil, err
		}
		n.children = []*node{val}
		n.endCol = b.col
		b.multiColumnRepeat = true
		mt := &iceberg.MapType{KeyID: kid, KeyType: iceberg.PrimitiveTypes.String, ValueID: vid, ValueType: it, ValueRequired: !val.optional}
		return n, wrap(parquet.Map(parquet.FieldID(parquet.String(), kid), parquet.FieldID(pv, vid))), mt, nil

	case kindUnion:
		return nil, nil, nil, fmt.Errorf("%s: nested union", path)
	case kindNull:
		return nil, nil, nil, fmt.Errorf("%s: null cannot be stored here", path)
	}

	n := &node{kind: nodeLeaf, path: path, optional: optional, nullDef: parentDef, def: def, col: b.col, firstCol: b.col, endCol: b.col + 1}
	b.col++
	pn, it, err := leafType(n, s)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return n, wrap(pn), it, nil
}

func leafType(n *node, s *avroSchema) (parquet.Node, iceberg.Type, error) {
	switch s.logical {
	case logicalDecimal:
		n.precision, n.scale = s.precision, s.scale
		n.limit = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s.precision)), nil)
		switch p := s.precision; {
		case p <= 9:
			n.leaf = leafDecimal32
			return parquet.Decimal(s.scale, p, parquet.Int32Type), iceberg.DecimalTypeOf(p, s.scale), nil
		case p <= 18:
			n.leaf = leafDecimal64
			return parquet.Decimal(s.scale, p, parquet.Int64Type), iceberg.DecimalTypeOf(p, s.scale), nil
		case p <= 38:
			n.leaf = leafDecimalFixed
			n.size = decimalBytes(p)
			return parquet.Decimal(s.scale, p, parquet.FixedLenByteArrayType(n.size)), iceberg.DecimalTypeOf(p, s.scale), nil
		default:
			n.leaf = leafDecimalString
			return parquet.String(), iceberg.PrimitiveTypes.String, nil
		}
	case logicalDate:
		n.leaf = leafDate
		return parquet.Date(), iceberg.PrimitiveTypes.Date, nil
	case logicalTimeMillis, logicalTimeMicros:
		n.leaf = leafTimeMicros
		if s.logical == logicalTimeMillis {
			n.leaf = leafTimeMillis
		}
		return parquet.TimeAdjusted(parquet.Microsecond, false), iceberg.PrimitiveTypes.Time, nil
	case logicalTimestampMillis, logicalTimestampMicros:
		n.leaf = leafTimestampMicros
		if s.logical == logicalTimestampMillis {
			n.leaf = leafTimestampMillis
		}
		return parquet.TimestampAdjusted(parquet.Microsecond, true), iceberg.PrimitiveTypes.TimestampTz, nil
	case logicalLocalTimestampMillis, logicalLocalTimestampMicros:
		n.leaf = leafLocalTimestampMicros
		if s.logical == logicalLocalTimestampMillis {
			n.leaf = leafLocalTimestampMillis
		}
		return parquet.TimestampAdjusted(parquet.Microsecond, false), iceberg.PrimitiveTypes.Timestamp, nil
	case logicalUUID:
		if s.kind == kindFixed {
			n.leaf, n.size = leafUUIDFixed, 16
			return parquet.UUID(), iceberg.PrimitiveTypes.UUID, nil
		}
		n.leaf = leafString
		return parquet.String(), iceberg.PrimitiveTypes.String, nil
	}
	switch s.kind {
	case kindBoolean:
		n.leaf = leafBool
		return parquet.Leaf(parquet.BooleanType), iceberg.PrimitiveTypes.Bool, nil
	case kindInt:
		n.leaf = leafInt32
		return parquet.Leaf(parquet.Int32Type), iceberg.PrimitiveTypes.Int32, nil
	case kindLong:
		n.leaf = leafInt64
		return parquet.Leaf(parquet.Int64Type), iceberg.PrimitiveTypes.Int64, nil
	case kindFloat:
		n.leaf = leafFloat
		return parquet.Leaf(parquet.FloatType), iceberg.PrimitiveTypes.Float32, nil
	case kindDouble:
		n.leaf = leafDouble
		return parquet.Leaf(parquet.DoubleType), iceberg.PrimitiveTypes.Float64, nil
	case kindString:
		n.leaf = leafString
		return parquet.String(), iceberg.PrimitiveTypes.String, nil
	case kindBytes:
		n.leaf = leafBytes
		return parquet.Leaf(parquet.ByteArrayType), iceberg.PrimitiveTypes.Binary, nil
	case kindEnum:
		n.leaf = leafEnum
		n.symbols = make(map[string]struct{}, len(s.symbols))
		for _, sym := range s.symbols {
			n.symbols[sym] = struct{}{}
		}
		return parquet.String(), iceberg.PrimitiveTypes.String, nil
	case kindFixed:
		n.leaf, n.size = leafFixed, s.size
		return parquet.Leaf(parquet.FixedLenByteArrayType(s.size)), iceberg.FixedTypeOf(s.size), nil
	}
	return nil, nil, fmt.Errorf("unsupported Avro type %s", s.kind)
}

// decimalBytes is the fewest bytes of two's complement that hold every
// unscaled value of the precision (as Iceberg requires for fixed decimals).
func decimalBytes(precision int) int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	limit.Sub(limit, big.NewInt(1)) // largest magnitude
	bits := limit.BitLen() + 1      // plus the sign bit
	return (bits + 7) / 8
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
