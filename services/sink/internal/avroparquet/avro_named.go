package avroparquet

import (
	"fmt"
	"strings"
)

// define registers the named type s from m's name/namespace.
func (p *avroParser) define(s *avroSchema, m map[string]any, ns string) error {
	name, _ := m["name"].(string)
	if name == "" {
		return fmt.Errorf("%s has no name", s.kind)
	}
	if space, ok := m["namespace"].(string); ok {
		ns = space
	}
	full := name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ns, name = name[:i], name[i+1:]
	} else if ns != "" {
		full = ns + "." + name
	}
	if !validName(name) {
		return fmt.Errorf("invalid %s name %q", s.kind, name)
	}
	if ns != "" {
		for _, part := range strings.Split(ns, ".") {
			if !validName(part) {
				return fmt.Errorf("invalid namespace %q", ns)
			}
		}
	}
	if _, ok := primitiveKinds[full]; ok {
		return fmt.Errorf("%s may not be named %q", s.kind, full)
	}
	if _, dup := p.named[full]; dup {
		return fmt.Errorf("type %q is defined twice", full)
	}
	s.name, s.fullName, s.namespace, s.wrapKey = name, full, ns, full
	p.named[full] = s
	return nil
}

func (p *avroParser) record(m map[string]any, ns string, depth int) (*avroSchema, error) {
	s := &avroSchema{kind: kindRecord}
	if err := p.define(s, m, ns); err != nil {
		return nil, err
	}
	raw, ok := m["fields"].([]any)
	if !ok {
		return nil, fmt.Errorf("record %s: \"fields\" must be an array", s.fullName)
	}
	s.defining = true
	seen := make(map[string]bool, len(raw))
	for i, rf := range raw {
		fm, ok := rf.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s: field %d is not an object", s.fullName, i+1)
		}
		name, _ := fm["name"].(string)
		if !validName(name) {
			return nil, fmt.Errorf("record %s: field %d has an invalid name %q", s.fullName, i+1, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("record %s: field %q appears twice", s.fullName, name)
		}
		seen[name] = true
		ft, ok := fm["type"]
		if !ok {
			return nil, fmt.Errorf("record %s: field %q has no type", s.fullName, name)
		}
		typ, err := p.parse(ft, s.namespace, depth+1)
		if err != nil {
			return nil, fmt.Errorf("record %s: field %q: %w", s.fullName, name, err)
		}
		doc, _ := fm["doc"].(string)
		s.fields = append(s.fields, avroField{name: name, doc: doc, typ: typ})
	}
	s.defining = false
	return s, nil
}

func (p *avroParser) enum(m map[string]any, ns string) (*avroSchema, error) {
	s := &avroSchema{kind: kindEnum}
	if err := p.define(s, m, ns); err != nil {
		return nil, err
	}
	raw, ok := m["symbols"].([]any)
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("enum %s needs a non-empty \"symbols\" array", s.fullName)
	}
	seen := make(map[string]bool, len(raw))
	for _, r := range raw {
		sym, ok := r.(string)
		if !ok || !validName(sym) || seen[sym] {
			return nil, fmt.Errorf("enum %s: invalid or repeated symbol %v", s.fullName, r)
		}
		seen[sym] = true
		s.symbols = append(s.symbols, sym)
	}
	return s, nil
}

func (p *avroParser) fixed(m map[string]any, ns string) (*avroSchema, error) {
	s := &avroSchema{kind: kindFixed}
	if err := p.define(s, m, ns); err != nil {
		return nil, err
	}
	size, ok, err := intAttr(m, "size")
	if err != nil {
		return nil, fmt.Errorf("fixed %s: %w", s.fullName, err)
	}
	if !ok || size < 1 || size > 1<<20 {
		return nil, fmt.Errorf("fixed %s needs a size between 1 and %d", s.fullName, 1<<20)
	}
	s.size = size
	return s, p.logical(s, m)
}

// validName reports whether n is a valid Avro name: [A-Za-z_][A-Za-z0-9_]*.
func validName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
