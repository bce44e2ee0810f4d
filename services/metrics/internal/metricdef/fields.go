package metricdef

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// window decodes window {count, period}.
func (p *parser) window(n *yaml.Node, name string) *Window {
	w := &Window{}
	if n.Kind != yaml.MappingNode {
		p.fail(n, name, "window", "must be a mapping with count and period")
		return w
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "count":
			c, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || c <= 0 {
				p.fail(v, name, "window", "count must be a positive integer")
			}
			w.Count = c
		case "period":
			if !validGrains[v.Value] || v.Value == "all_time" || v.Kind != yaml.ScalarNode {
				p.fail(v, name, "window", "unknown period %q", v.Value)
			}
			w.Period = v.Value
		default:
			p.fail(k, name, "window", "unknown field %q", k.Value)
		}
	}
	if w.Count == 0 || w.Period == "" {
		p.fail(n, name, "window", "needs count and period")
	}
	return w
}

var validOps = map[string]bool{"=": true, "!=": true, "<>": true, ">": true, ">=": true, "<": true,
	"<=": true, "in": true, "not in": true, "like": true, "is": true, "is not": true}

// filters decodes filters [{field, operator, value}].
func (p *parser) filters(n *yaml.Node, name string) []Filter {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, name, "filters", "must be a list")
		return nil
	}
	var out []Filter
	for _, c := range n.Content {
		if c.Kind != yaml.MappingNode {
			p.fail(c, name, "filters", "each filter must be a mapping")
			continue
		}
		var f Filter
		var have [3]bool
		for i := 0; i+1 < len(c.Content); i += 2 {
			k, v := c.Content[i], c.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				p.fail(v, name, "filters", "%s must be a scalar", k.Value)
				continue
			}
			switch k.Value {
			case "field":
				f.Field, have[0] = v.Value, true
			case "operator":
				f.Operator, have[1] = v.Value, true
				if !validOps[strings.ToLower(strings.Join(strings.Fields(v.Value), " "))] {
					p.fail(v, name, "filters", "unknown operator %q", v.Value)
				}
			case "value":
				f.Value, f.Kind, have[2] = v.Value, kindOf(v), true
			default:
				p.fail(k, name, "filters", "unknown field %q", k.Value)
			}
		}
		if !have[0] || !have[1] || !have[2] || f.Field == "" {
			p.fail(c, name, "filters", "needs field, operator and value")
		}
		out = append(out, f)
	}
	return out
}

// kindOf classifies a scalar's resolved YAML tag.
func kindOf(v *yaml.Node) string {
	switch v.ShortTag() {
	case "!!bool":
		return "bool"
	case "!!int", "!!float":
		return "number"
	case "!!null":
		return "null"
	}
	return "string"
}

// config decodes config {enabled} and returns enabled (default true).
func (p *parser) config(n *yaml.Node, name string) bool {
	if n.Kind != yaml.MappingNode {
		p.fail(n, name, "config", "must be a mapping")
		return true
	}
	enabled := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value != "enabled" {
			p.fail(k, name, "config", "unknown field %q", k.Value)
			continue
		}
		b, err := strconv.ParseBool(v.Value)
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || err != nil {
			p.fail(v, name, "config", "enabled must be true or false")
			continue
		}
		enabled = b
	}
	return enabled
}
