package project

import (
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// projectFile is what dbt_project.yml says.
type projectFile struct {
	name       string
	modelPaths []string
	pathNodes  []*yaml.Node // where each model path is written, nil for the default
	vars       map[string]any
	global     *layer       // configs directly under models:
	folders    []*folderCfg // configs per folder or model under models.<project>
}

// folderCfg is a +config block for a folder (or one model) of the project.
type folderCfg struct {
	path []string // below the model path; the last part may be a model name
	cfg  *layer
	key  *yaml.Node
}

var (
	projectKeys    = []string{"name", "version", "config-version", "profile", "model-paths", "vars", "models"}
	projectIgnored = []string{"source-paths", "seed-paths", "data-paths", "test-paths", "analysis-paths", "macro-paths",
		"snapshot-paths", "docs-paths", "asset-paths", "function-paths", "target-path", "log-path", "packages-install-path",
		"clean-targets", "require-dbt-version", "quoting", "on-run-start", "on-run-end", "seeds", "snapshots", "tests",
		"data_tests", "sources", "metrics", "semantic-models", "saved-queries", "exposures", "dispatch", "flags",
		"query-comment", "restrict-access", "dbt-cloud", "analyses", "unit_tests", "functions"}
)

// parseProjectFile reads dbt_project.yml; defName names a project whose
// file has no name.
func parseProjectFile(file string, content []byte, defName string) (*projectFile, error) {
	pf := &projectFile{name: defName, modelPaths: []string{"models"}, pathNodes: []*yaml.Node{nil}, vars: map[string]any{}, global: &layer{}}
	y := &yfile{path: file}
	top, err := y.parse(content)
	if err != nil || top == nil {
		return pf, err
	}
	f, err := y.fields(top, "dbt_project.yml", projectKeys, projectIgnored)
	if err != nil {
		return nil, err
	}
	if kv, ok := f["name"]; ok {
		if pf.name, err = y.str(kv.val, "name"); err != nil {
			return nil, err
		}
		if !identifierLike.MatchString(pf.name) {
			return nil, y.errAt(kv.val, ErrInvalid, "project name %q must be letters, digits and _", pf.name)
		}
	}
	if kv, ok := f["model-paths"]; ok {
		items, err := y.list(kv.val, "model-paths")
		if err != nil {
			return nil, err
		}
		pf.modelPaths, pf.pathNodes = nil, nil
		for _, it := range items {
			p, err := y.str(it, "model path")
			if err != nil {
				return nil, err
			}
			clean := path.Clean(strings.ReplaceAll(p, "\\", "/"))
			if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
				return nil, y.errAt(it, ErrInvalid, "model path %q must be inside the project", p)
			}
			pf.modelPaths, pf.pathNodes = append(pf.modelPaths, clean), append(pf.pathNodes, it)
		}
	}
	if kv, ok := f["vars"]; ok {
		if err := y.vars(kv.val, pf); err != nil {
			return nil, err
		}
	}
	if kv, ok := f["models"]; ok {
		if err := y.modelsTree(kv.val, pf); err != nil {
			return nil, err
		}
	}
	return pf, nil
}

// vars reads global vars, then vars scoped to this project (which win).
func (y *yfile) vars(n *yaml.Node, pf *projectFile) error {
	ps, err := y.pairs(n, "vars")
	if err != nil {
		return err
	}
	var scoped *yaml.Node
	for _, kv := range ps {
		if kv.key.Value == pf.name && resolveAlias(kv.val).Kind == yaml.MappingNode {
			scoped = kv.val
			continue
		}
		v, err := y.value(kv.val)
		if err != nil {
			return err
		}
		pf.vars[kv.key.Value] = v
	}
	if scoped == nil {
		return nil
	}
	sp, err := y.pairs(scoped, "vars."+pf.name)
	if err != nil {
		return err
	}
	for _, kv := range sp {
		v, err := y.value(kv.val)
		if err != nil {
			return err
		}
		pf.vars[kv.key.Value] = v
	}
	return nil
}

// modelsTree reads models: configs for everything, then models.<project>
// folders. Keys with + are configs; bare keys are configs when they name
// one, else folders (or models).
func (y *yfile) modelsTree(n *yaml.Node, pf *projectFile) error {
	ps, err := y.pairs(n, "models")
	if err != nil {
		return err
	}
	for _, kv := range ps {
		k := kv.key.Value
		switch {
		case strings.HasPrefix(k, "+") || isConfigKey(k):
			if err := y.applyConfig(pf.global, strings.TrimPrefix(k, "+"), kv); err != nil {
				return err
			}
		case k == pf.name:
			if err := y.folder(kv, nil, pf); err != nil {
				return err
			}
		default:
			return y.errAt(kv.key, ErrUnknownKey, "models.%s: not this project (%s) nor a config; packages are not supported%s", k, pf.name, suggest(k, []string{pf.name}))
		}
	}
	return nil
}

func (y *yfile) folder(kv ykv, at []string, pf *projectFile) error {
	what := "models." + strings.Join(append([]string{pf.name}, at...), ".")
	fc := &folderCfg{path: at, cfg: &layer{}, key: kv.key}
	pf.folders = append(pf.folders, fc)
	if v := resolveAlias(kv.val); v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	ps, err := y.pairs(kv.val, what)
	if err != nil {
		return err
	}
	for _, c := range ps {
		k := c.key.Value
		switch {
		case strings.HasPrefix(k, "+"):
			key := strings.TrimPrefix(k, "+")
			if !isConfigKey(key) {
				return y.errAt(c.key, ErrUnknownKey, "%s: unknown config key %q%s", what, k, suggest(key, append(append([]string{}, configKeys...), dbtConfigKeys...)))
			}
			if err := y.applyConfig(fc.cfg, key, c); err != nil {
				return err
			}
		case isConfigKey(k):
			if err := y.applyConfig(fc.cfg, k, c); err != nil {
				return err
			}
		default:
			v := resolveAlias(c.val)
			if v.Kind != yaml.MappingNode && (v.Kind != yaml.ScalarNode || v.Tag != "!!null") {
				return y.errAt(c.key, ErrUnknownKey, "%s: %q is neither a config (write +%s) nor a folder", what, k, k)
			}
			if err := y.folder(c, append(append([]string(nil), at...), k), pf); err != nil {
				return err
			}
		}
	}
	return nil
}
