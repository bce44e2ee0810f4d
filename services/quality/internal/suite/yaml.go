package suite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlConverter turns yaml.v3 nodes into nodes, expanding aliases and merge keys.
type yamlConverter struct{ count int }

// parseYAML parses one YAML document.
func parseYAML(data []byte) (*node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("line 1: empty document")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: only one YAML document is allowed", max(extra.Line, 1))
	}
	c := &yamlConverter{}
	return c.convert(&doc, 0)
}

func (c *yamlConverter) convert(y *yaml.Node, depth int) (*node, error) {
	c.count++
	if depth > maxDepth || c.count > maxNodes {
		return nil, fmt.Errorf("line %d: document nested too deeply or too large", y.Line)
	}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{line: y.Line}, nil
		}
		return c.convert(y.Content[0], depth+1)
	case yaml.AliasNode:
		if y.Alias == nil {
			return nil, fmt.Errorf("line %d: unknown alias", y.Line)
		}
		n, err := c.convert(y.Alias, depth+1)
		if n != nil {
			n.line = y.Line
		}
		return n, err
	case yaml.SequenceNode:
		n := &node{kind: nSeq, line: y.Line}
		for _, it := range y.Content {
			v, err := c.convert(it, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
		return n, nil
	case yaml.MappingNode:
		return c.mapping(y, depth)
	}
	return scalar(y)
}

// mapping converts a YAML mapping; explicit keys win over merged (<<) ones.
func (c *yamlConverter) mapping(y *yaml.Node, depth int) (*node, error) {
	n := &node{kind: nMap, line: y.Line}
	seen := map[string]bool{}
	var merges []*node
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: mapping keys must be strings", k.Line)
		}
		val, err := c.convert(v, depth+1)
		if err != nil {
			return nil, err
		}
		if k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0) {
			merges = append(merges, val)
			continue
		}
		if seen[k.Value] {
			return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
		}
		seen[k.Value] = true
		n.keys = append(n.keys, &node{line: k.Line, val: k.Value})
		n.vals = append(n.vals, val)
	}
	for _, m := range merges {
		srcs := []*node{m}
		if m.kind == nSeq {
			srcs = m.items
		}
		for _, src := range srcs {
			if src.kind != nMap {
				return nil, fmt.Errorf("line %d: merge (<<) needs a mapping", src.line)
			}
			for i, k := range src.keys {
				if key := k.val.(string); !seen[key] {
					seen[key] = true
					n.keys = append(n.keys, k)
					n.vals = append(n.vals, src.vals[i])
				}
			}
		}
	}
	return n, nil
}

// scalar resolves a YAML scalar by its tag.
func scalar(y *yaml.Node) (*node, error) {
	n := &node{line: y.Line}
	v := y.Value
	switch y.ShortTag() {
	case "!!null":
		n.val = nil
	case "!!bool":
		n.val = strings.EqualFold(v, "true") || strings.EqualFold(v, "yes") || strings.EqualFold(v, "on")
	case "!!int":
		clean := strings.ReplaceAll(v, "_", "")
		if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
			n.val = i
		} else if f, err := strconv.ParseFloat(clean, 64); err == nil {
			n.val = f
		} else {
			n.val = v
		}
	case "!!float":
		switch strings.ToLower(strings.TrimLeft(v, "+")) {
		case ".inf":
			n.val = math.Inf(1)
		case "-.inf":
			n.val = math.Inf(-1)
		case ".nan":
			n.val = math.NaN()
		default:
			f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad number %q", y.Line, v)
			}
			n.val = f
		}
	default:
		n.val = v
	}
	return n, nil
}
