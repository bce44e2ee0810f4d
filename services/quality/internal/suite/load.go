package suite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// ErrSyntax reports a file that is not valid JSON or YAML.
var ErrSyntax = errors.New("syntax error")

// ErrUnknownKey reports a key a suite file must not have (often a typo).
var ErrUnknownKey = errors.New("unknown key")

// ErrInvalid reports a suite file whose structure is wrong (a missing name,
// a list where a mapping belongs, neither a GE suite nor a dbt schema file).
var ErrInvalid = errors.New("invalid suite file")

// ErrDuplicateSuite reports two suites with one name in a directory.
var ErrDuplicateSuite = errors.New("duplicate suite")

// Suite is a named set of compiled expectations for one staging model.
type Suite struct {
	Name         string               // expectation_suite_name / name; "dbt:<model>" for dbt tests
	Model        string               // the staging model checked: meta.riacho.model, else the dbt model, else Name
	File         string               // the file it was loaded from
	Expectations []expect.Expectation // in declaration order
}

// Rows returns the suite's row-level expectations, decided per record.
func (s Suite) Rows() []expect.RowExpectation {
	var out []expect.RowExpectation
	for _, e := range s.Expectations {
		if r, ok := e.(expect.RowExpectation); ok && e.Level() == expect.Row {
			out = append(out, r)
		}
	}
	return out
}

// Sets returns the suite's set- and table-level expectations, decided per window.
func (s Suite) Sets() []expect.SetExpectation {
	var out []expect.SetExpectation
	for _, e := range s.Expectations {
		if r, ok := e.(expect.SetExpectation); ok && e.Level() != expect.Row {
			out = append(out, r)
		}
	}
	return out
}

// LoadFile loads the suites in one file: a GE suite (JSON or YAML) or a dbt
// schema.yml (one suite per model with tests).
func LoadFile(path string) ([]Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read suite %s: %w", path, err)
	}
	return Parse(path, data)
}

// LoadDir loads every *.json, *.yml and *.yaml file directly in dir, in
// name order, reporting every failing file; suite names must be unique.
func LoadDir(dir string) ([]Suite, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read suite dir %s: %w", dir, err)
	}
	var suites []Suite
	var errs []error
	where := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".json" && ext != ".yml" && ext != ".yaml") {
			continue
		}
		got, err := LoadFile(filepath.Join(dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, s := range got {
			if prev, dup := where[s.Name]; dup {
				errs = append(errs, fmt.Errorf("%s: suite %s: also defined in %s: %w", s.File, s.Name, prev, ErrDuplicateSuite))
				continue
			}
			where[s.Name] = s.File
			suites = append(suites, s)
		}
	}
	sort.SliceStable(suites, func(i, j int) bool { return suites[i].Name < suites[j].Name })
	return suites, errors.Join(errs...)
}

// Parse parses suite file content; file names it in errors and picks the
// syntax: .json files are JSON, anything else YAML (a superset of JSON).
func Parse(file string, data []byte) ([]Suite, error) {
	var root *node
	var err error
	if strings.EqualFold(filepath.Ext(file), ".json") {
		root, err = parseJSON(data)
	} else {
		root, err = parseYAML(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", file, ErrSyntax, err)
	}
	if root.kind != nMap {
		return nil, fmt.Errorf("%s:%d: want a mapping at the top, got %s: %w", file, root.line, root.kindName(), ErrInvalid)
	}
	if root.get("models") != nil || (root.get("version") != nil && root.get("expectations") == nil) {
		return parseDBT(file, root)
	}
	if root.get("expectations") == nil && (root.get("expectation_type") != nil || (root.get("type") != nil && root.get("kwargs") != nil)) {
		return parseBare(file, root)
	}
	s, err := parseGE(file, root)
	if err != nil {
		return nil, err
	}
	return []Suite{s}, nil
}

// parseBare reads a file holding one expectation object on its own, as
// the seed's test_leads_email_format returns it: a suite of that one
// expectation, named after the file (without its extension). Its model is
// the expectation's meta.riacho.model, else the suite's name.
func parseBare(file string, root *node) ([]Suite, error) {
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	e, err := parseExpectation(file, name, 1, root)
	if err != nil {
		return nil, err
	}
	s := Suite{Name: name, Model: name, File: file, Expectations: []expect.Expectation{e}}
	if m := riachoModel(e.Config().Meta); m != "" {
		s.Model = m
	}
	return []Suite{s}, nil
}

// loc formats file:line.
func loc(file string, line int) string { return fmt.Sprintf("%s:%d", file, line) }

// checkKeys reports keys of n outside allowed.
func checkKeys(file string, n *node, what string, allowed ...string) error {
	var errs []error
	for _, k := range n.keys {
		key := k.val.(string)
		found := false
		for _, a := range allowed {
			if a == key {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, fmt.Errorf("%s: %s: key %q: %w", loc(file, k.line), what, key, ErrUnknownKey))
		}
	}
	return errors.Join(errs...)
}

// compile compiles one expectation and formats its error as
// "file:line: suite <name>: expectation #<i> <label>: <cause>", pointing at
// the offending kwarg's line when there is one.
func compile(file, suiteName string, i int, label string, c expect.Config, line int, kwargs *node) (expect.Expectation, error) {
	c.Source = loc(file, line)
	e, err := expect.Compile(c)
	if err == nil {
		return e, nil
	}
	cause := err
	var ce *expect.ConfigError
	if errors.As(err, &ce) {
		cause = ce.Err
		if kn := kwargs.keyNodeOrNil(ce.Kwarg); kn != nil {
			line = kn.line
		}
	}
	return nil, fmt.Errorf("%s: suite %s: expectation #%d %s: %w", loc(file, line), suiteName, i, label, cause)
}

// keyNodeOrNil returns the key node for key in a mapping, or nil.
func (n *node) keyNodeOrNil(key string) *node {
	if n == nil || n.kind != nMap || key == "" {
		return nil
	}
	return n.keyNode(key)
}

// str reads a string node.
func str(file string, n *node, what string) (string, error) {
	if n == nil {
		return "", fmt.Errorf("%s: %s: missing: %w", file, what, ErrInvalid)
	}
	s, ok := n.val.(string)
	if n.kind != nScalar || !ok || s == "" {
		return "", fmt.Errorf("%s: %s: want a non-empty string, got %s: %w", loc(file, n.line), what, n.kindName(), ErrInvalid)
	}
	return s, nil
}

// mapping converts a mapping node (or null) to a map.
func mapping(file string, n *node, what string) (map[string]any, error) {
	if n.isNull() {
		return nil, nil
	}
	if n.kind != nMap {
		return nil, fmt.Errorf("%s: %s: want a mapping, got %s: %w", loc(file, n.line), what, n.kindName(), ErrInvalid)
	}
	return n.toAny().(map[string]any), nil
}

// riachoModel returns meta.riacho.model when set.
func riachoModel(meta map[string]any) string {
	r, _ := meta["riacho"].(map[string]any)
	m, _ := r["model"].(string)
	return m
}
