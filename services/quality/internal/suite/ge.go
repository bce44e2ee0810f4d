package suite

import (
	"errors"
	"fmt"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// parseGE parses a GE expectation suite (0.18 or GX 1.x form).
func parseGE(file string, root *node) (Suite, error) {
	if err := checkKeys(file, root, "suite", "expectation_suite_name", "name", "expectations", "meta",
		"data_asset_type", "ge_cloud_id", "id", "notes", "suite_parameters", "evaluation_parameters"); err != nil {
		return Suite{}, err
	}
	name, err := oneOf(file, root, "suite name", "expectation_suite_name", "name")
	if err != nil {
		return Suite{}, err
	}
	meta, err := mapping(file, root.get("meta"), "suite "+name+": meta")
	if err != nil {
		return Suite{}, err
	}
	s := Suite{Name: name, Model: name, File: file}
	if m := riachoModel(meta); m != "" {
		s.Model = m
	}
	list := root.get("expectations")
	if list == nil {
		return Suite{}, fmt.Errorf("%s: suite %s: no expectations list: %w", loc(file, root.line), name, ErrInvalid)
	}
	if list.isNull() {
		return s, nil
	}
	if list.kind != nSeq {
		return Suite{}, fmt.Errorf("%s: suite %s: expectations: want a list, got %s: %w", loc(file, list.line), name, list.kindName(), ErrInvalid)
	}
	var errs []error
	for i, en := range list.items {
		e, err := parseExpectation(file, name, i+1, en)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.Expectations = append(s.Expectations, e)
	}
	if len(errs) > 0 {
		return Suite{}, errors.Join(errs...)
	}
	return s, nil
}

// oneOf reads a string given under either of two keys (0.18 and GX 1.x
// spellings); both may be given only when equal.
func oneOf(file string, n *node, what, oldKey, newKey string) (string, error) {
	a, b := n.get(oldKey), n.get(newKey)
	if a == nil && b == nil {
		return "", fmt.Errorf("%s: %s: want %s or %s: %w", loc(file, n.line), what, oldKey, newKey, ErrInvalid)
	}
	var vals []string
	for _, x := range []*node{a, b} {
		if x == nil {
			continue
		}
		s, err := str(file, x, what)
		if err != nil {
			return "", err
		}
		vals = append(vals, s)
	}
	if len(vals) == 2 && vals[0] != vals[1] {
		return "", fmt.Errorf("%s: %s: %s %q and %s %q differ: %w", loc(file, n.line), what, oldKey, vals[0], newKey, vals[1], ErrInvalid)
	}
	return vals[0], nil
}

// parseExpectation parses and compiles one entry of expectations.
func parseExpectation(file, suiteName string, i int, en *node) (expect.Expectation, error) {
	where := fmt.Sprintf("suite %s: expectation #%d", suiteName, i)
	if en.kind != nMap {
		return nil, fmt.Errorf("%s: %s: want a mapping, got %s: %w", loc(file, en.line), where, en.kindName(), ErrInvalid)
	}
	if err := checkKeys(file, en, where, "expectation_type", "type", "kwargs", "meta", "id", "ge_cloud_id",
		"notes", "description", "rendered_content", "severity", "expectation_context"); err != nil {
		return nil, err
	}
	typ, err := oneOf(file, en, where, "expectation_type", "type")
	if err != nil {
		return nil, err
	}
	kwNode := en.get("kwargs")
	kwargs, err := mapping(file, kwNode, where+" "+typ+": kwargs")
	if err != nil {
		return nil, err
	}
	meta, err := mapping(file, en.get("meta"), where+" "+typ+": meta")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"notes", "severity"} {
		if n := en.get(k); !n.isNull() {
			if meta == nil {
				meta = map[string]any{}
			}
			if _, set := meta[k]; !set {
				meta[k] = n.toAny()
			}
		}
	}
	line := en.line
	for _, k := range []string{"expectation_type", "type"} {
		if kn := en.keyNodeOrNil(k); kn != nil {
			line = kn.line
		}
	}
	c := expect.Config{Type: typ, Kwargs: kwargs, Meta: meta}
	return compile(file, suiteName, i, typ, c, line, kwNode)
}
