package metricdef

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	nameRe = regexp.MustCompile(`^[A-Za-z][\w-]*$`)
	refRe  = regexp.MustCompile(`^ref\(\s*['"]([^'"]+)['"]\s*\)$`)
)

// parser accumulates the errors of one file.
type parser struct {
	file string
	errs []error
}

// fail records "file:line: metric name: field: message".
func (p *parser) fail(n *yaml.Node, name, field, format string, args ...any) {
	if name == "" {
		name = "?"
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: metric %s: %s: %s: %w", p.file, n.Line, name, field, fmt.Sprintf(format, args...), ErrInvalid))
}

// ParseFile parses the `metrics:` list of one dbt schema file; other top-level keys are ignored.
// It returns the metrics that validated and every error joined.
func ParseFile(file string, data []byte) ([]Metric, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: parse yaml: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: top level is not a mapping: %w", file, root.Line, ErrInvalid)
	}
	p := &parser{file: file}
	var out []Metric
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "metrics" {
			continue
		}
		list := root.Content[i+1]
		if list.Kind != yaml.SequenceNode {
			if list.Tag == "!!null" {
				continue
			}
			return nil, fmt.Errorf("%s:%d: metrics is not a list: %w", file, list.Line, ErrInvalid)
		}
		for _, item := range list.Content {
			before := len(p.errs)
			m := p.metric(item)
			if len(p.errs) > before {
				continue
			}
			if line, ok := seen[m.Name]; ok {
				p.fail(item, m.Name, "name", "duplicate of line %d", line)
				continue
			}
			seen[m.Name] = m.Line
			out = append(out, m)
		}
	}
	return out, errors.Join(p.errs...)
}

// metric decodes and validates one item of the metrics list.
func (p *parser) metric(n *yaml.Node) Metric {
	m := Metric{File: p.file, Line: n.Line, Enabled: true}
	if n.Kind != yaml.MappingNode {
		p.fail(n, "", "metric", "not a mapping")
		return m
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fields[n.Content[i].Value] = n.Content[i+1]
	}
	if v, ok := fields["name"]; ok {
		m.Name = v.Value
	}
	name := m.Name
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name", "label", "model", "description", "calculation_method", "type",
			"expression", "sql", "timestamp":
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				p.fail(v, name, k.Value, "must be a string")
			}
		case "time_grains", "dimensions", "tags":
			p.strings(v, name, k.Value)
		case "window", "filters", "meta", "config":
		default:
			p.fail(k, name, k.Value, "unknown field")
		}
	}
	m.Label = scalar(fields["label"])
	m.Description = scalar(fields["description"])
	m.Timestamp = scalar(fields["timestamp"])
	m.CalculationMethod = p.either(fields, name, "calculation_method", "type")
	m.Expression = p.either(fields, name, "expression", "sql")
	m.TimeGrains = p.strings(fields["time_grains"], "", "")
	m.Dimensions = p.strings(fields["dimensions"], "", "")
	m.Tags = p.strings(fields["tags"], "", "")
	p.required(n, fields, m, name)
	if v := fields["model"]; v != nil && v.Value != "" {
		if sm := refRe.FindStringSubmatch(strings.TrimSpace(v.Value)); sm != nil {
			m.Model = sm[1]
		} else {
			p.fail(v, name, "model", "%q is not ref('model')", v.Value)
		}
	}
	p.checkMethod(n, fields, &m, name)
	for _, g := range m.TimeGrains {
		if !validGrains[g] {
			p.fail(fields["time_grains"], name, "time_grains", "unknown grain %q", g)
		}
	}
	if m.Timestamp == "" && len(m.TimeGrains) > 0 {
		p.fail(fields["time_grains"], name, "time_grains", "needs a timestamp")
	}
	if v := fields["window"]; v != nil {
		m.Window = p.window(v, name)
		if m.Timestamp == "" {
			p.fail(v, name, "window", "needs a timestamp")
		}
	}
	if v := fields["filters"]; v != nil {
		m.Filters = p.filters(v, name)
	}
	if v := fields["meta"]; v != nil {
		if v.Kind != yaml.MappingNode {
			p.fail(v, name, "meta", "must be a mapping")
		} else if err := v.Decode(&m.Meta); err != nil {
			p.fail(v, name, "meta", "%v", err)
		}
	}
	if v := fields["config"]; v != nil {
		m.Enabled = p.config(v, name)
	}
	return m
}

// required reports missing mandatory fields and a malformed name.
func (p *parser) required(n *yaml.Node, fields map[string]*yaml.Node, m Metric, name string) {
	if m.Name == "" {
		p.fail(n, name, "name", "required")
	} else if !nameRe.MatchString(m.Name) || len(m.Name) > 250 {
		p.fail(fields["name"], name, "name", "must start with a letter, use only letters, digits, _ or -, and be at most 250 characters")
	}
	if m.Label == "" {
		p.fail(n, name, "label", "required")
	}
	if m.CalculationMethod == "" {
		p.fail(n, name, "calculation_method", "required")
	}
}

var validGrains = map[string]bool{"day": true, "week": true, "month": true, "quarter": true, "year": true, "all_time": true}

var validMethods = map[string]bool{"count": true, "count_distinct": true, "sum": true, "average": true,
	"min": true, "max": true, "median": true, "derived": true}

// checkMethod validates calculation_method against model and expression.
func (p *parser) checkMethod(n *yaml.Node, fields map[string]*yaml.Node, m *Metric, name string) {
	if m.CalculationMethod == "" {
		return
	}
	mf := fields["calculation_method"]
	if mf == nil {
		mf = fields["type"]
	}
	if !validMethods[m.CalculationMethod] {
		p.fail(mf, name, "calculation_method", "unknown method %q", m.CalculationMethod)
		return
	}
	if m.CalculationMethod == "derived" {
		if v := fields["model"]; v != nil {
			p.fail(v, name, "model", "derived metrics have no model")
		}
		if m.Expression == "" {
			p.fail(n, name, "expression", "required for derived metrics")
		}
		return
	}
	if fields["model"] == nil {
		p.fail(n, name, "model", "required")
	}
	if m.Expression == "" {
		p.fail(n, name, "expression", "required")
	}
}

// either reads a field that older files spell alt; both given and different is an error.
func (p *parser) either(fields map[string]*yaml.Node, name, key, alt string) string {
	a, b := scalar(fields[key]), scalar(fields[alt])
	if fields[key] != nil && fields[alt] != nil && a != b {
		p.fail(fields[alt], name, key, "%s %q differs from %s %q", alt, b, key, a)
	}
	if a != "" {
		return a
	}
	return b
}

// scalar returns a scalar node's value, or "" for nil and non-scalars.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// strings decodes a list of scalars; it reports errors only when field is not empty.
func (p *parser) strings(n *yaml.Node, name, field string) []string {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		if field != "" {
			p.fail(n, name, field, "must be a list of strings")
		}
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
			if field != "" {
				p.fail(c, name, field, "must be a list of strings")
			}
			continue
		}
		out = append(out, c.Value)
	}
	return out
}
