package project

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yfile reads the node tree of one YAML file strictly: every mapping is
// checked against the keys it may have, and errors carry file:line:col.
type yfile struct {
	path string
	work int // mapping entries visited, to bound << merge expansion
}

// maxYAMLWork bounds how many mapping entries one file may make us visit.
const maxYAMLWork = 1 << 20

// ykv is one key: value pair of a mapping.
type ykv struct{ key, val *yaml.Node }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse returns the top node of the file's single document, or nil when the
// file is empty.
func (y *yfile) parse(content []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, y.syntax(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, y.errAt(&extra, ErrSyntax, "more than one YAML document in the file")
	} else if !errors.Is(err, io.EOF) {
		return nil, y.syntax(err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := resolveAlias(doc.Content[0])
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil, nil
	}
	return top, nil
}

func (y *yfile) syntax(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: y.path, Line: line, Msg: m[2], Kind: ErrSyntax}
	}
	return &Error{File: y.path, Line: 1, Msg: strings.TrimPrefix(msg, "yaml: "), Kind: ErrSyntax}
}

func (y *yfile) errAt(n *yaml.Node, kind error, format string, args ...any) error {
	line, col := 1, 0
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	return &Error{File: y.path, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Kind: kind}
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

// pairs lists a mapping's entries, expanding << merge keys (explicit keys
// win) and refusing repeated keys.
func (y *yfile) pairs(n *yaml.Node, what string) ([]ykv, error) {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return nil, y.errAt(n, ErrInvalid, "%s must be a mapping, found %s", what, kindName(n))
	}
	y.work += len(n.Content)/2 + 1
	if y.work > maxYAMLWork {
		return nil, y.errAt(n, ErrInvalid, "%s: aliases and << merges expand too much", what)
	}
	var merged, own []ykv
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, y.errAt(k, ErrInvalid, "%s: keys must be plain text", what)
		}
		if k.Tag == "!!merge" {
			src := resolveAlias(v)
			list := []*yaml.Node{src}
			if src.Kind == yaml.SequenceNode {
				list = src.Content
			}
			for _, m := range list {
				sub, err := y.pairs(m, what)
				if err != nil {
					return nil, err
				}
				merged = append(merged, sub...)
			}
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return nil, y.errAt(k, ErrDuplicate, "%s: key %q repeats the one at line %d", what, k.Value, first.Line)
		}
		seen[k.Value] = k
		own = append(own, ykv{k, v})
	}
	out := own
	for _, kv := range merged {
		if seen[kv.key.Value] == nil {
			seen[kv.key.Value] = kv.key
			out = append(out, kv)
		}
	}
	return out, nil
}

// fields reads a mapping whose keys must be in known or ignored; it returns
// the known ones. Unknown keys are errors at the key.
func (y *yfile) fields(n *yaml.Node, what string, known, ignored []string) (map[string]ykv, error) {
	ps, err := y.pairs(n, what)
	if err != nil {
		return nil, err
	}
	out := map[string]ykv{}
	for _, kv := range ps {
		k := kv.key.Value
		switch {
		case contains(known, k):
			out[k] = kv
		case contains(ignored, k):
		default:
			all := append(append([]string{}, known...), ignored...)
			return nil, y.errAt(kv.key, ErrUnknownKey, "unknown key %q in %s%s", k, what, suggest(k, all))
		}
	}
	return out, nil
}

func (y *yfile) str(n *yaml.Node, what string) (string, error) {
	n = resolveAlias(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!map" || n.Tag == "!!seq" {
		return "", y.errAt(n, ErrInvalid, "%s must be text, found %s", what, kindName(n))
	}
	return n.Value, nil
}

func (y *yfile) list(n *yaml.Node, what string) ([]*yaml.Node, error) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, y.errAt(n, ErrInvalid, "%s must be a list, found %s", what, kindName(n))
	}
	return n.Content, nil
}

// value decodes a node into plain Go (maps, lists, scalars).
func (y *yfile) value(n *yaml.Node) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, y.errAt(n, ErrInvalid, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return normalizeYAML(v), nil
}

// normalizeYAML turns map[any]any (non-text keys) into map[string]any.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalizeYAML(x)
		}
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = normalizeYAML(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = normalizeYAML(x)
		}
	}
	return v
}

// locate finds the node a config error path points at inside a value node:
// the deepest key found along path.
func locate(key, val *yaml.Node, path []string) *yaml.Node {
	at := key
	n := resolveAlias(val)
	for _, p := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				at, next = n.Content[i], resolveAlias(n.Content[i+1])
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return at
}

// applyConfig sets one config key from YAML onto l, with the error placed at
// the offending key.
func (y *yfile) applyConfig(l *layer, key string, kv ykv) error {
	v, err := y.value(kv.val)
	if err != nil {
		return err
	}
	if ce := l.set(key, v); ce != nil {
		return y.errAt(locate(kv.key, kv.val, ce.path[1:]), ce.kind, "%s", ce.text())
	}
	return nil
}
