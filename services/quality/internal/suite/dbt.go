package suite

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// parseDBT turns a dbt schema.yml's generic tests into one suite per model.
func parseDBT(file string, root *node) ([]Suite, error) {
	if err := checkKeys(file, root, "dbt schema", "version", "models", "sources", "seeds", "snapshots", "analyses",
		"macros", "exposures", "metrics", "semantic_models", "saved_queries", "groups", "unit_tests", "data_tests"); err != nil {
		return nil, err
	}
	models := root.get("models")
	if models.isNull() {
		return nil, nil
	}
	if models.kind != nSeq {
		return nil, fmt.Errorf("%s: models: want a list, got %s: %w", loc(file, models.line), models.kindName(), ErrInvalid)
	}
	var suites []Suite
	var errs []error
	for _, m := range models.items {
		s, err := parseModel(file, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(s.Expectations) > 0 {
			suites = append(suites, s)
		}
	}
	return suites, errors.Join(errs...)
}

// parseModel collects a model's model-level and column-level tests.
func parseModel(file string, m *node) (Suite, error) {
	if m.kind != nMap {
		return Suite{}, fmt.Errorf("%s: model: want a mapping, got %s: %w", loc(file, m.line), m.kindName(), ErrInvalid)
	}
	nameNode := m.get("name")
	if nameNode == nil {
		return Suite{}, fmt.Errorf("%s: model without a name: %w", loc(file, m.line), ErrInvalid)
	}
	model, err := str(file, nameNode, "model name")
	if err != nil {
		return Suite{}, err
	}
	s := Suite{Name: "dbt:" + model, Model: model, File: file}
	for _, metaNode := range []*node{m.get("meta"), m.get("config").get("meta")} {
		if meta, _ := mapping(file, metaNode, "meta"); riachoModel(meta) != "" {
			s.Model = riachoModel(meta)
		}
	}
	d := &dbtModel{file: file, suite: &s}
	d.tests(m, "")
	if cols := m.get("columns"); !cols.isNull() {
		if cols.kind != nSeq {
			d.errs = append(d.errs, fmt.Errorf("%s: model %s: columns: want a list: %w", loc(file, cols.line), model, ErrInvalid))
		}
		for _, c := range cols.items {
			if c.kind != nMap || c.get("name") == nil {
				d.errs = append(d.errs, fmt.Errorf("%s: model %s: column without a name: %w", loc(file, c.line), model, ErrInvalid))
				continue
			}
			col, err := str(file, c.get("name"), "column name")
			if err != nil {
				d.errs = append(d.errs, err)
				continue
			}
			d.tests(c, col)
		}
	}
	return s, errors.Join(d.errs...)
}

// dbtModel accumulates one model's expectations and errors.
type dbtModel struct {
	file  string
	suite *Suite
	n     int // tests seen, for "expectation #n"
	errs  []error
}

// tests reads the tests/data_tests list of a model (column "") or column.
func (d *dbtModel) tests(owner *node, column string) {
	for _, key := range []string{"tests", "data_tests"} {
		list := owner.get(key)
		if list.isNull() {
			continue
		}
		if list.kind != nSeq {
			d.errs = append(d.errs, fmt.Errorf("%s: suite %s: %s: want a list: %w", loc(d.file, list.line), d.suite.Name, key, ErrInvalid))
			continue
		}
		for _, t := range list.items {
			d.n++
			if err := d.test(t, column); err != nil {
				d.errs = append(d.errs, err)
			}
		}
	}
}

// test converts one dbt test entry: "not_null" or {name: {args}}.
func (d *dbtModel) test(t *node, column string) error {
	where := fmt.Sprintf("suite %s: expectation #%d", d.suite.Name, d.n)
	var name string
	args := &node{kind: nMap, line: t.line}
	switch {
	case t.kind == nScalar:
		s, err := str(d.file, t, where)
		if err != nil {
			return err
		}
		name = s
	case t.kind == nMap && t.get("test_name") != nil:
		s, err := str(d.file, t.get("test_name"), where+": test_name")
		if err != nil {
			return err
		}
		name, args = s, t
	case t.kind == nMap && len(t.keys) == 1:
		name = t.keys[0].val.(string)
		if v := t.vals[0]; !v.isNull() {
			if v.kind != nMap {
				return fmt.Errorf("%s: %s %s: want a mapping of arguments, got %s: %w", loc(d.file, v.line), where, name, v.kindName(), ErrInvalid)
			}
			args = v
		}
	default:
		return fmt.Errorf("%s: %s: want a test name or a mapping with one test: %w", loc(d.file, t.line), where, ErrInvalid)
	}
	c, kwNode, skip, err := d.config(name, args, column, where)
	if err != nil || skip {
		return err
	}
	label := name
	if name != c.Type {
		label = name + " (" + c.Type + ")"
	}
	e, err := compile(d.file, d.suite.Name, d.n, label, c, t.line, kwNode)
	if err != nil {
		return err
	}
	d.suite.Expectations = append(d.suite.Expectations, e)
	return nil
}

// config maps a dbt test and its arguments to an expectation configuration.
func (d *dbtModel) config(name string, args *node, column, where string) (expect.Config, *node, bool, error) {
	kw := map[string]any{}
	meta := map[string]any{"dbt_test": name}
	argNode := args
	cfg := map[string]any{}
	for i, k := range args.keys {
		key, v := k.val.(string), args.vals[i]
		switch key {
		case "name", "test_name", "description":
		case "config":
			m, err := mapping(d.file, v, where+" "+name+": config")
			if err != nil {
				return expect.Config{}, nil, false, err
			}
			for ck, cv := range m {
				cfg[ck] = cv
			}
		case "arguments":
			m, err := mapping(d.file, v, where+" "+name+": arguments")
			if err != nil {
				return expect.Config{}, nil, false, err
			}
			argNode = v
			for ak, av := range m {
				kw[ak] = av
			}
		case "where", "severity", "enabled", "tags", "limit", "store_failures", "store_failures_as", "error_if",
			"warn_if", "fail_calc", "alias", "schema", "database", "meta":
			cfg[key] = v.toAny()
		default:
			kw[key] = v.toAny()
		}
	}
	if enabled, ok := cfg["enabled"].(bool); ok && !enabled {
		return expect.Config{}, nil, true, nil
	}
	if sev, ok := cfg["severity"]; ok {
		meta["severity"] = sev
	}
	if m, ok := cfg["meta"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	if w, ok := cfg["where"].(string); ok && w != "" {
		kw["row_condition"], kw["condition_parser"] = w, "sql"
	}
	if cn, ok := kw["column_name"]; ok && column == "" {
		column, _ = cn.(string)
		delete(kw, "column_name")
	}
	typ, err := d.mapTest(name, kw, column)
	if err != nil {
		return expect.Config{}, nil, false, fmt.Errorf("%s: %s %s: %w", loc(d.file, args.line), where, name, err)
	}
	return expect.Config{Type: typ, Kwargs: kw, Meta: meta}, argNode, false, nil
}

// mapTest rewrites kw in place for the expectation a dbt test maps to.
func (d *dbtModel) mapTest(name string, kw map[string]any, column string) (string, error) {
	if column != "" {
		kw["column"] = column
	}
	rename := func(from, to string) {
		if v, ok := kw[from]; ok {
			kw[to] = v
			delete(kw, from)
		}
	}
	switch name {
	case "not_null":
		return "expect_column_values_to_not_be_null", nil
	case "unique":
		return "expect_column_values_to_be_unique", nil
	case "accepted_values":
		if q, ok := kw["quote"]; ok {
			if _, isBool := q.(bool); !isBool {
				return "", fmt.Errorf("quote: want true or false: %w", expect.ErrKwarg)
			}
			delete(kw, "quote")
		}
		rename("values", "value_set")
		return "expect_column_values_to_be_in_set", nil
	case "relationships":
		// ref('model'), ref("model", v=2) or source('src', 'table').
		refPattern := regexp.MustCompile(`^\s*(ref|source)\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?(?:,\s*v(?:ersion)?\s*=\s*\S+\s*)?\)\s*$`)
		to, _ := kw["to"].(string)
		m := refPattern.FindStringSubmatch(to)
		if m == nil {
			return "", fmt.Errorf("to: want ref('model') or source('source', 'table'), got %q: %w", to, expect.ErrKwarg)
		}
		model := m[2]
		if m[1] == "source" && m[3] != "" {
			model = m[2] + "." + m[3]
		}
		kw["to_model"] = model
		delete(kw, "to")
		return expect.RelationshipType, nil
	case "dbt_utils.unique_combination_of_columns":
		rename("combination_of_columns", "column_list")
		delete(kw, "column")
		return "expect_compound_columns_to_be_unique", nil
	case "dbt_utils.not_null_proportion":
		rename("at_least", "mostly")
		return "expect_column_values_to_not_be_null", nil
	}
	if ge, ok := strings.CutPrefix(name, "dbt_expectations."); ok {
		if _, has := kw["row_condition"]; has {
			kw["condition_parser"] = "sql"
		}
		return ge, nil
	}
	if strings.HasPrefix(name, "expect_") {
		return name, nil
	}
	return "", fmt.Errorf("unsupported dbt test (want not_null, unique, accepted_values, relationships, "+
		"dbt_utils.unique_combination_of_columns, dbt_utils.not_null_proportion or dbt_expectations.*): %w",
		expect.ErrUnknownExpectation)
}
