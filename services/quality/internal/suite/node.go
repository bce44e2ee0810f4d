package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// maxDepth bounds nesting, and maxNodes the size after alias expansion.
const (
	maxDepth = 200
	maxNodes = 1 << 17
)

// nodeKind is the kind of a parsed document node.
type nodeKind uint8

const (
	nScalar nodeKind = iota
	nMap
	nSeq
)

// node is a JSON or YAML value with the line it starts on.
type node struct {
	kind  nodeKind
	line  int
	keys  []*node // mapping keys (scalars holding strings), in order
	vals  []*node // mapping values
	items []*node // sequence items
	val   any     // scalar: string, int64, float64, bool or nil
}

// get returns the value under key, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != nMap {
		return nil
	}
	for i, k := range n.keys {
		if k.val == key {
			return n.vals[i]
		}
	}
	return nil
}

// keyNode returns the key node for key, or nil.
func (n *node) keyNode(key string) *node {
	for i, k := range n.keys {
		if k.val == key {
			return n.keys[i]
		}
	}
	return nil
}

// isNull reports whether n is absent or a null scalar.
func (n *node) isNull() bool { return n == nil || (n.kind == nScalar && n.val == nil) }

// kindName names the node's kind for error messages.
func (n *node) kindName() string {
	switch {
	case n.isNull():
		return "null"
	case n.kind == nMap:
		return "a mapping"
	case n.kind == nSeq:
		return "a list"
	}
	if _, ok := n.val.(string); ok {
		return "a string"
	}
	return "a scalar"
}

// toAny converts n to plain Go values (map[string]any, []any, scalars).
func (n *node) toAny() any {
	switch n.kind {
	case nMap:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k.val.(string)] = n.vals[i].toAny()
		}
		return m
	case nSeq:
		l := make([]any, len(n.items))
		for i, it := range n.items {
			l[i] = it.toAny()
		}
		return l
	}
	return n.val
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	li := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

func (li lineIndex) line(off int) int {
	return sort.Search(len(li), func(i int) bool { return li[i] > off })
}

// jsonParser builds nodes from a JSON token stream, using decoder offsets for lines.
type jsonParser struct {
	dec   *json.Decoder
	data  []byte
	lines lineIndex
}

// parseJSON parses one JSON document.
func parseJSON(data []byte) (*node, error) {
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(data)), data: data, lines: newLineIndex(data)}
	p.dec.UseNumber()
	n, err := p.value(0)
	if err == nil {
		if _, terr := p.dec.Token(); terr != io.EOF {
			err = fmt.Errorf("line %d: unexpected data after the document", p.lines.line(int(p.dec.InputOffset())))
		}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("line %d: %w", p.lines.line(int(se.Offset)), se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: unexpected end of JSON", len(p.lines))
	}
	return n, err
}

// start returns the line of the next token after offset.
func (p *jsonParser) start(off int) int {
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	return p.lines.line(off)
}

func (p *jsonParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nested too deeply", p.start(int(p.dec.InputOffset())))
	}
	line := p.start(int(p.dec.InputOffset()))
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	n := &node{line: line}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			n.kind = nSeq
			for p.dec.More() {
				it, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, it)
			}
		} else {
			n.kind = nMap
			seen := map[string]bool{}
			for p.dec.More() {
				kl := p.start(int(p.dec.InputOffset()))
				kt, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				if seen[key] {
					return nil, fmt.Errorf("line %d: duplicate key %q", kl, key)
				}
				seen[key] = true
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, &node{line: kl, val: key})
				n.vals = append(n.vals, v)
			}
		}
		if _, err := p.dec.Token(); err != nil {
			return nil, err
		}
	case json.Number:
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			n.val = i
		} else if f, err := strconv.ParseFloat(t.String(), 64); err == nil {
			n.val = f
		} else {
			return nil, fmt.Errorf("line %d: number %s out of range", line, t)
		}
	default:
		n.val = t
	}
	return n, nil
}
