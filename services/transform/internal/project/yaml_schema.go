package project

import (
	"go.yaml.in/yaml/v3"
)

// schemaFile is what a models/**/*.yml file declares.
type schemaFile struct {
	sources []*Source
	models  []*modelPatch
}

// modelPatch is a models: entry of a schema file.
type modelPatch struct {
	name string
	line int
	file string
	cfg  *layer
}

var (
	schemaTopIgnored = []string{"metrics", "exposures", "semantic_models", "seeds", "snapshots", "macros",
		"analyses", "saved_queries", "unit_tests", "groups", "data_tests"}
	sourceKeys        = []string{"name", "tables", "meta", "config"}
	sourceIgnored     = []string{"description", "database", "schema", "loader", "loaded_at_field", "loaded_at_query", "tags", "overrides", "freshness", "quoting", "docs", "event_time"}
	tableKeys         = []string{"name", "meta", "config"}
	tableIgnored      = []string{"description", "identifier", "loaded_at_field", "loaded_at_query", "tests", "data_tests", "columns", "tags", "freshness", "quoting", "external", "docs", "event_time"}
	sourceConfigKeys  = []string{"enabled", "meta"}
	sourceConfigIgnor = []string{"freshness", "event_time", "loaded_at_field", "loaded_at_query", "tags", "quoting", "docs"}
	modelKeys         = []string{"name", "config", "columns", "tags", "versions", "latest_version"}
	modelIgnored      = []string{"description", "tests", "data_tests", "meta", "docs", "access", "group", "constraints", "deprecation_date", "time_spine", "freshness"}
	columnKeys        = []string{"name"}
	columnIgnored     = []string{"description", "data_type", "tests", "data_tests", "constraints", "meta", "tags", "quote", "policy_tags", "granularity", "docs", "config"}
	unwrapModes       = []string{"auto", "debezium", "none"}
)

// parseSchemaFile reads one schema file. Table-level meta.riacho (or
// config.meta.riacho) sets alias, topic and unwrap; source-level sets unwrap.
func parseSchemaFile(path string, content []byte) (*schemaFile, error) {
	y := &yfile{path: path}
	top, err := y.parse(content)
	if err != nil || top == nil {
		return &schemaFile{}, err
	}
	f, err := y.fields(top, "schema file", []string{"version", "sources", "models"}, schemaTopIgnored)
	if err != nil {
		return nil, err
	}
	if kv, ok := f["version"]; ok {
		if v := resolveAlias(kv.val); v.Kind != yaml.ScalarNode || v.Value != "2" {
			return nil, y.errAt(kv.val, ErrInvalid, "version must be 2, found %s", kindName(v))
		}
	}
	out := &schemaFile{}
	if kv, ok := f["sources"]; ok {
		items, err := y.list(kv.val, "sources")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			srcs, err := y.source(it)
			if err != nil {
				return nil, err
			}
			out.sources = append(out.sources, srcs...)
		}
	}
	if kv, ok := f["models"]; ok {
		items, err := y.list(kv.val, "models")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			m, err := y.model(it)
			if err != nil {
				return nil, err
			}
			out.models = append(out.models, m)
		}
	}
	return out, nil
}

// riachoMeta reads meta.riacho and config.meta.riacho of a source or table,
// and whether config.enabled turns it off.
func (y *yfile) riachoMeta(f map[string]ykv, what string, allowed []string) (map[string]ykv, bool, error) {
	disabled := false
	out := map[string]ykv{}
	read := func(meta ykv) error {
		ps, err := y.pairs(meta.val, what+" meta")
		if err != nil {
			return err
		}
		for _, kv := range ps {
			if kv.key.Value != "riacho" {
				continue // other meta is free-form
			}
			r, err := y.fields(kv.val, what+" meta.riacho", allowed, nil)
			if err != nil {
				return err
			}
			for k, v := range r {
				out[k] = v
			}
		}
		return nil
	}
	if meta, ok := f["meta"]; ok {
		if err := read(meta); err != nil {
			return nil, false, err
		}
	}
	if cfg, ok := f["config"]; ok {
		c, err := y.fields(cfg.val, what+" config", sourceConfigKeys, sourceConfigIgnor)
		if err != nil {
			return nil, false, err
		}
		if en, ok := c["enabled"]; ok {
			v := resolveAlias(en.val)
			if v.Tag != "!!bool" {
				return nil, false, y.errAt(en.val, ErrInvalid, "enabled must be true or false")
			}
			disabled = v.Value == "false"
		}
		if meta, ok := c["meta"]; ok {
			if err := read(meta); err != nil {
				return nil, false, err
			}
		}
	}
	return out, disabled, nil
}

func (y *yfile) source(n *yaml.Node) ([]*Source, error) {
	f, err := y.fields(n, "source", sourceKeys, sourceIgnored)
	if err != nil {
		return nil, err
	}
	nameKV, ok := f["name"]
	if !ok {
		return nil, y.errAt(resolveAlias(n), ErrInvalid, "source needs a name")
	}
	name, err := y.str(nameKV.val, "source name")
	if err != nil {
		return nil, err
	}
	if !identifierLike.MatchString(name) {
		return nil, y.errAt(nameKV.val, ErrInvalid, "source name %q must be letters, digits and _", name)
	}
	srcMeta, disabled, err := y.riachoMeta(f, "source", []string{"unwrap"})
	if err != nil {
		return nil, err
	}
	unwrap := "auto"
	if kv, ok := srcMeta["unwrap"]; ok {
		if unwrap, err = y.unwrap(kv); err != nil {
			return nil, err
		}
	}
	tables, ok := f["tables"]
	if disabled || !ok {
		return nil, nil
	}
	var out []*Source
	items, err := y.list(tables.val, "tables")
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		s, err := y.table(it, name, unwrap)
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

func (y *yfile) unwrap(kv ykv) (string, error) {
	s, err := y.str(kv.val, "unwrap")
	if err != nil {
		return "", err
	}
	if !contains(unwrapModes, s) {
		return "", y.errAt(kv.val, ErrInvalid, "unwrap must be auto, debezium or none, not %q", s)
	}
	return s, nil
}

func (y *yfile) table(n *yaml.Node, src, unwrap string) (*Source, error) {
	f, err := y.fields(n, "source table", tableKeys, tableIgnored)
	if err != nil {
		return nil, err
	}
	nameKV, ok := f["name"]
	if !ok {
		return nil, y.errAt(resolveAlias(n), ErrInvalid, "source table needs a name")
	}
	name, err := y.str(nameKV.val, "table name")
	if err != nil {
		return nil, err
	}
	if !identifierLike.MatchString(name) {
		return nil, y.errAt(nameKV.val, ErrInvalid, "table name %q must be letters, digits and _", name)
	}
	meta, disabled, err := y.riachoMeta(f, "source table", []string{"alias", "topic", "unwrap"})
	if err != nil || disabled {
		return nil, err
	}
	s := &Source{Name: src, Table: name, Topic: "raw." + src + "." + name, Unwrap: unwrap, File: y.path, Line: nameKV.key.Line}
	if kv, ok := meta["topic"]; ok {
		if s.Topic, err = y.str(kv.val, "topic"); err != nil {
			return nil, err
		}
		if !topicName.MatchString(s.Topic) {
			return nil, y.errAt(kv.val, ErrInvalid, "topic %q is not a Kafka topic name (letters, digits, . _ -)", s.Topic)
		}
	}
	if kv, ok := meta["alias"]; ok {
		if s.Alias, err = y.str(kv.val, "alias"); err != nil {
			return nil, err
		}
		if !identifierLike.MatchString(s.Alias) {
			return nil, y.errAt(kv.val, ErrInvalid, "alias %q must be letters, digits and _", s.Alias)
		}
		s.aliasLine = kv.val.Line
	}
	if kv, ok := meta["unwrap"]; ok {
		if s.Unwrap, err = y.unwrap(kv); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (y *yfile) model(n *yaml.Node) (*modelPatch, error) {
	f, err := y.fields(n, "model", modelKeys, modelIgnored)
	if err != nil {
		return nil, err
	}
	nameKV, ok := f["name"]
	if !ok {
		return nil, y.errAt(resolveAlias(n), ErrInvalid, "model needs a name")
	}
	name, err := y.str(nameKV.val, "model name")
	if err != nil {
		return nil, err
	}
	if kv, ok := f["versions"]; ok {
		return nil, y.errAt(kv.key, ErrUnsupported, "model versions are not supported")
	}
	if kv, ok := f["latest_version"]; ok {
		return nil, y.errAt(kv.key, ErrUnsupported, "model versions are not supported")
	}
	m := &modelPatch{name: name, line: nameKV.key.Line, file: y.path, cfg: &layer{}}
	if kv, ok := f["tags"]; ok {
		if err := y.applyConfig(m.cfg, "tags", kv); err != nil {
			return nil, err
		}
	}
	if kv, ok := f["config"]; ok {
		ps, err := y.pairs(kv.val, "model config")
		if err != nil {
			return nil, err
		}
		for _, c := range ps {
			if !isConfigKey(c.key.Value) {
				return nil, y.errAt(c.key, ErrUnknownKey, "unknown config key %q%s", c.key.Value, suggest(c.key.Value, append(append([]string{}, configKeys...), dbtConfigKeys...)))
			}
			if err := y.applyConfig(m.cfg, c.key.Value, c); err != nil {
				return nil, err
			}
		}
	}
	if kv, ok := f["columns"]; ok {
		cols, err := y.list(kv.val, "columns")
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			if _, err := y.fields(c, "column", columnKeys, columnIgnored); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
