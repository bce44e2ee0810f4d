package avro

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// goavro sizes a decoded array or map by the block count read from the
// input before it decodes any item, and accepts counts up to 2^31-1: six
// hostile bytes make it allocate tens of GiB and the process dies. A guard
// walks the Avro body against the schema first, without allocating, and
// rejects block counts the remaining bytes cannot hold. Schemas without
// arrays or maps need no guard.

// maxZeroSizeItems caps a block of items that occupy no bytes (arrays of
// null or of empty records), which the remaining length cannot bound.
const maxZeroSizeItems = 1 << 20

type kind uint8

const (
	kNull kind = iota
	kBoolean
	kInt // int, long, enum: one varint
	kFloat
	kDouble
	kBytes // bytes, string
	kFixed
	kRecord
	kArray
	kMap
	kUnion
)

// node is one schema type, as much as the guard needs of it.
type node struct {
	kind     kind
	size     int     // fixed
	children []*node // record fields, union branches, array items or map values (one)
	min      int     // minimum encoded size, once computed
	minState uint8   // 0 unknown, 1 computing, 2 done
	minItem  int     // arrays and maps: minimum encoded size of one item
}

// guard checks Avro bodies for one schema.
type guard struct{ root *node }

// newGuard parses schema; it returns nil when the schema has no array or
// map, and so needs no guard.
func newGuard(schema string) (*guard, error) {
	var v any
	if err := json.Unmarshal([]byte(schema), &v); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	p := &schemaParser{named: map[string]*node{}}
	root, err := p.parse(v, "")
	if err != nil {
		return nil, err
	}
	if !p.collections {
		return nil, nil
	}
	// Compute every bound now: check runs concurrently and only reads.
	finalize(root, map[*node]bool{})
	return &guard{root: root}, nil
}

// finalize computes minSize of n and everything below it, and the minimum
// item size of arrays and maps.
func finalize(n *node, seen map[*node]bool) {
	if seen[n] {
		return
	}
	seen[n] = true
	n.minSize()
	for _, c := range n.children {
		finalize(c, seen)
	}
	switch n.kind {
	case kArray:
		n.minItem = n.children[0].minSize()
	case kMap:
		n.minItem = 1 + n.children[0].minSize() // the key is a string of at least one byte
	}
}

type schemaParser struct {
	named       map[string]*node
	collections bool
}

var primitives = map[string]kind{
	"null": kNull, "boolean": kBoolean, "int": kInt, "long": kInt,
	"float": kFloat, "double": kDouble, "bytes": kBytes, "string": kBytes,
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func (p *schemaParser) parse(v any, ns string) (*node, error) {
	switch t := v.(type) {
	case string:
		if k, ok := primitives[t]; ok {
			return &node{kind: k}, nil
		}
		if n, ok := p.named[fullName(t, ns)]; ok {
			return n, nil
		}
		if n, ok := p.named[t]; ok {
			return n, nil
		}
		return nil, fmt.Errorf("unknown type %q", t)
	case []any:
		n := &node{kind: kUnion}
		for _, b := range t {
			c, err := p.parse(b, ns)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		}
		return n, nil
	case map[string]any:
		return p.parseComplex(t, ns)
	}
	return nil, fmt.Errorf("unexpected schema element %T", v)
}

func (p *schemaParser) parseComplex(m map[string]any, ns string) (*node, error) {
	typ, ok := m["type"].(string)
	if !ok {
		// {"type": {...}} or {"type": [...]} wraps another type.
		return p.parse(m["type"], ns)
	}
	if k, ok := primitives[typ]; ok {
		return &node{kind: k}, nil
	}
	named := func(n *node) (string, error) {
		name, _ := m["name"].(string)
		if name == "" {
			return "", fmt.Errorf("%s without a name", typ)
		}
		if s, ok := m["namespace"].(string); ok && !strings.Contains(name, ".") {
			ns = s
		}
		full := fullName(name, ns)
		p.named[full] = n
		if i := strings.LastIndexByte(full, '.'); i >= 0 {
			ns = full[:i]
		} else {
			ns = ""
		}
		return ns, nil
	}
	switch typ {
	case "record", "error":
		n := &node{kind: kRecord}
		fns, err := named(n)
		if err != nil {
			return nil, err
		}
		fields, _ := m["fields"].([]any)
		for _, f := range fields {
			fm, ok := f.(map[string]any)
			if !ok {
				return nil, errors.New("record field is not an object")
			}
			c, err := p.parse(fm["type"], fns)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		}
		return n, nil
	case "enum":
		n := &node{kind: kInt}
		_, err := named(n)
		return n, err
	case "fixed":
		n := &node{kind: kFixed}
		size, ok := m["size"].(float64)
		if !ok || size < 0 {
			return nil, errors.New("fixed without a valid size")
		}
		n.size = int(size)
		_, err := named(n)
		return n, err
	case "array", "map":
		p.collections = true
		n := &node{kind: kArray}
		key := "items"
		if typ == "map" {
			n.kind, key = kMap, "values"
		}
		c, err := p.parse(m[key], ns)
		if err != nil {
			return nil, err
		}
		n.children = []*node{c}
		return n, nil
	}
	if n, ok := p.named[fullName(typ, ns)]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("unknown type %q", typ)
}

// minSize is a lower bound of n's encoded length; a type still being
// computed (recursion) counts as 0, which keeps the bound a lower one.
func (n *node) minSize() int {
	switch n.minState {
	case 1:
		return 0
	case 2:
		return n.min
	}
	n.minState = 1
	m := 0
	switch n.kind {
	case kBoolean, kInt, kBytes, kArray, kMap:
		m = 1
	case kFloat:
		m = 4
	case kDouble:
		m = 8
	case kFixed:
		m = n.size
	case kRecord:
		for _, c := range n.children {
			m += c.minSize()
		}
	case kUnion:
		least := math.MaxInt
		for _, c := range n.children {
			least = min(least, c.minSize())
		}
		if least == math.MaxInt {
			least = 0
		}
		m = 1 + least
	}
	n.min, n.minState = m, 2
	return m
}

var errGuardShort = errors.New("truncated")

// mapKey is the type of every map key; walk never modifies it.
var mapKey = node{kind: kBytes}

// check walks b as one value of the guard's schema.
func (g *guard) check(b []byte) error {
	_, err := g.walk(g.root, b, 0)
	return err
}

// maxDepth bounds nesting of recursive schemas.
const maxDepth = 1000

func readLong(b []byte) (int64, []byte, error) {
	u, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("bad varint: %w", errGuardShort)
	}
	return int64(u>>1) ^ -int64(u&1), b[n:], nil
}

func need(b []byte, n int) ([]byte, error) {
	if n < 0 || n > len(b) {
		return nil, errGuardShort
	}
	return b[n:], nil
}

func (g *guard) walk(n *node, b []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errors.New("nesting deeper than 1000")
	}
	switch n.kind {
	case kNull:
		return b, nil
	case kBoolean:
		return need(b, 1)
	case kInt:
		_, rest, err := readLong(b)
		return rest, err
	case kFloat:
		return need(b, 4)
	case kDouble:
		return need(b, 8)
	case kFixed:
		return need(b, n.size)
	case kBytes:
		l, rest, err := readLong(b)
		if err != nil {
			return nil, err
		}
		if l < 0 || l > int64(len(rest)) {
			return nil, fmt.Errorf("bytes length %d with %d bytes left", l, len(rest))
		}
		return rest[l:], nil
	case kRecord:
		var err error
		for _, c := range n.children {
			if b, err = g.walk(c, b, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case kUnion:
		i, rest, err := readLong(b)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(n.children)) {
			return nil, fmt.Errorf("union branch %d of %d", i, len(n.children))
		}
		return g.walk(n.children[i], rest, depth+1)
	case kArray, kMap:
		return g.walkBlocks(n, b, depth)
	}
	return nil, fmt.Errorf("unknown kind %d", n.kind)
}

func (g *guard) walkBlocks(n *node, b []byte, depth int) ([]byte, error) {
	item, minItem := n.children[0], n.minItem
	for {
		count, rest, err := readLong(b)
		if err != nil {
			return nil, err
		}
		b = rest
		if count == 0 {
			return b, nil
		}
		if count < 0 {
			if count == math.MinInt64 {
				return nil, errors.New("block count out of range")
			}
			count = -count
			if _, b, err = readLong(b); err != nil { // block size in bytes, unused
				return nil, err
			}
		}
		switch {
		case minItem > 0 && count > int64(len(b)/minItem):
			return nil, fmt.Errorf("block of %d items with %d bytes left", count, len(b))
		case minItem == 0 && count > maxZeroSizeItems:
			return nil, fmt.Errorf("block of %d empty items exceeds %d", count, maxZeroSizeItems)
		}
		for range count {
			if n.kind == kMap {
				if b, err = g.walk(&mapKey, b, depth+1); err != nil {
					return nil, err
				}
			}
			if b, err = g.walk(item, b, depth+1); err != nil {
				return nil, err
			}
		}
	}
}
