package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// modelState is a model while it loads.
type modelState struct {
	m       *Model
	errFile string   // the file as errors name it
	dirs    []string // folders below its model path
	tmpl    *template
	inFile  *layer // config() calls
	patch   *modelPatch
	uses    []use
}

type loader struct {
	dir     string
	opts    Options
	pf      *projectFile
	proj    *Project
	models  map[string]*modelState
	aliases map[string]*Source
	patches map[string]*modelPatch
	errs    []error
}

// Load reads the project in dir: dbt_project.yml (optional), then every
// .sql model and .yml schema file under the model paths. It renders each
// model, resolves its config, checks the DAG and compiles the SQL. Errors
// about the project's files read "path:line[:col]: message" and wrap one
// of the ErrX kinds; all problems found in one phase are joined.
func Load(dir string, opts Options) (*Project, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load project: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("load project %s: not a directory", dir)
	}
	l := &loader{dir: dir, opts: opts, models: map[string]*modelState{}, aliases: map[string]*Source{}, patches: map[string]*modelPatch{}}
	for _, phase := range []func() error{l.readProject, l.scan, l.link, l.render, l.configure, l.graph} {
		if err := phase(); err != nil {
			return nil, err
		}
		if len(l.errs) > 0 {
			return nil, errors.Join(l.errs...)
		}
	}
	return l.proj, nil
}

func (l *loader) fail(err error) { l.errs = append(l.errs, err) }

func (l *loader) readProject() error {
	file := filepath.Join(l.dir, "dbt_project.yml")
	abs, err := filepath.Abs(l.dir)
	if err != nil {
		return fmt.Errorf("load project: %w", err)
	}
	content, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("load project: %w", err)
	}
	l.pf, err = parseProjectFile(file, content, filepath.Base(abs))
	if err != nil {
		return err
	}
	l.proj = &Project{Dir: l.dir, Name: l.pf.name, Models: map[string]*Model{}, Sources: map[string]*Source{}}
	return nil
}

// scan walks the model paths in lexical order.
func (l *loader) scan() error {
	var schemas []*schemaFile
	for i, mp := range l.pf.modelPaths {
		root := filepath.Join(l.dir, filepath.FromSlash(mp))
		if _, err := os.Stat(root); err != nil {
			if n := l.pf.pathNodes[i]; n != nil {
				y := &yfile{path: filepath.Join(l.dir, "dbt_project.yml")}
				l.fail(y.errAt(n, ErrInvalid, "model path %q does not exist", mp))
			}
			continue
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && p != root {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(l.dir, p)
			if err != nil {
				return err
			}
			errFile := filepath.Join(l.dir, rel)
			switch strings.ToLower(filepath.Ext(p)) {
			case ".sql":
				below, _ := filepath.Rel(root, filepath.Dir(p))
				l.addModel(p, filepath.ToSlash(rel), errFile, below)
			case ".yml", ".yaml":
				content, err := os.ReadFile(p) //nolint:gosec // the project directory is the operator's own configuration
				if err != nil {
					return err
				}
				sf, err := parseSchemaFile(errFile, content)
				if err != nil {
					l.fail(err)
					return nil
				}
				schemas = append(schemas, sf)
			case ".py":
				l.fail(&Error{File: errFile, Line: 1, Msg: "python models are not supported", Kind: ErrUnsupported})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("load project: %w", err)
		}
	}
	for _, sf := range schemas {
		l.addSchema(sf)
	}
	return nil
}

func (l *loader) addModel(file, rel, errFile, below string) {
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if !identifierLike.MatchString(name) {
		l.fail(&Error{File: errFile, Line: 1, Msg: fmt.Sprintf("model name %q (the file's name) must be letters, digits and _", name), Kind: ErrInvalid})
		return
	}
	if prev, dup := l.models[name]; dup {
		l.fail(&Error{File: errFile, Line: 1, Msg: fmt.Sprintf("model %s is already defined by %s", name, prev.m.Path), Kind: ErrDuplicate})
		return
	}
	content, err := os.ReadFile(file)
	if err != nil {
		l.fail(&Error{File: errFile, Line: 1, Msg: err.Error(), Kind: ErrInvalid})
		return
	}
	abs, _ := filepath.Abs(file)
	st := &modelState{
		m:       &Model{Name: name, Path: rel, RawSQL: string(content), File: abs},
		errFile: errFile,
		inFile:  &layer{},
	}
	if below != "." {
		st.dirs = strings.Split(filepath.ToSlash(below), "/")
	}
	if st.tmpl, err = parseTemplate(st.m.RawSQL); err != nil {
		l.fail(inFile(errFile, err))
	}
	l.models[name] = st
	l.proj.Models[name] = st.m
}

func (l *loader) addSchema(sf *schemaFile) {
	for _, s := range sf.sources {
		if prev, dup := l.proj.Sources[s.Key()]; dup {
			l.fail(&Error{File: s.File, Line: s.Line, Msg: fmt.Sprintf("source %s is already declared at %s:%d", s.Key(), prev.File, prev.Line), Kind: ErrDuplicate})
			continue
		}
		l.proj.Sources[s.Key()] = s
		if s.Alias == "" {
			continue
		}
		if prev, dup := l.aliases[s.Alias]; dup {
			l.fail(&Error{File: s.File, Line: s.aliasLine, Msg: fmt.Sprintf("alias %s already names source %s", s.Alias, prev.Key()), Kind: ErrDuplicate})
			continue
		}
		l.aliases[s.Alias] = s
	}
	for _, p := range sf.models {
		if prev, dup := l.patches[p.name]; dup {
			l.fail(&Error{File: p.file, Line: p.line, Msg: fmt.Sprintf("model %s is already described at %s:%d", p.name, prev.file, prev.line), Kind: ErrDuplicate})
			continue
		}
		l.patches[p.name] = p
	}
}

// link ties schema entries and folder configs to models.
func (l *loader) link() error {
	for _, a := range sortedMapKeys(l.aliases) {
		if _, clash := l.models[a]; clash {
			s := l.aliases[a]
			l.fail(&Error{File: s.File, Line: s.aliasLine, Msg: fmt.Sprintf("alias %s of source %s is also a model's name", a, s.Key()), Kind: ErrDuplicate})
		}
	}
	for _, name := range sortedMapKeys(l.patches) {
		p := l.patches[name]
		st, ok := l.models[name]
		if !ok {
			l.fail(&Error{File: p.file, Line: p.line, Msg: fmt.Sprintf("model %s has no .sql file%s", name, suggest(name, sortedMapKeys(l.models))), Kind: ErrUndefined})
			continue
		}
		st.patch = p
	}
	for _, fc := range l.pf.folders {
		if !l.folderUsed(fc.path) {
			y := &yfile{path: filepath.Join(l.dir, "dbt_project.yml")}
			l.fail(y.errAt(fc.key, ErrUndefined, "models.%s: no model folder or model is at %s", strings.Join(append([]string{l.pf.name}, fc.path...), "."), path.Join(append([]string{"."}, fc.path...)...)))
		}
	}
	return nil
}

func (l *loader) folderUsed(p []string) bool {
	for _, st := range l.models {
		if hasPrefix(append(slices.Clone(st.dirs), st.m.Name), p) {
			return true
		}
	}
	return len(p) == 0
}

func hasPrefix(full, prefix []string) bool {
	return len(prefix) <= len(full) && slices.Equal(full[:len(prefix)], prefix)
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// render runs every template once, recording refs and config() calls.
func (l *loader) render() error {
	for _, name := range sortedMapKeys(l.models) {
		st := l.models[name]
		sql, err := st.tmpl.render(&modelHooks{l: l, st: st})
		if err != nil {
			l.fail(inFile(st.errFile, err))
			continue
		}
		st.m.SQL = sql
	}
	return nil
}

// configure resolves each model's config and refuses refs to disabled models.
func (l *loader) configure() error {
	for _, name := range sortedMapKeys(l.models) {
		st := l.models[name]
		layers := []*layer{l.pf.global}
		fqn := append(slices.Clone(st.dirs), name)
		for _, fc := range l.pf.folders {
			if hasPrefix(fqn, fc.path) {
				layers = append(layers, fc.cfg)
			}
		}
		if st.patch != nil {
			layers = append(layers, st.patch.cfg)
		}
		st.m.Config = resolve(append(layers, st.inFile)...)
		st.m.OutputTopic = "staging." + name
		if st.m.Config.Topic != "" {
			st.m.OutputTopic = st.m.Config.Topic
		}
	}
	for _, name := range sortedMapKeys(l.models) {
		st := l.models[name]
		if !st.m.Config.Enabled {
			continue
		}
		for _, u := range st.uses {
			if u.model != "" && !l.models[u.model].m.Config.Enabled {
				l.fail(inFile(st.errFile, errAt(u.at, ErrUndefined, "ref(%q): model %s is disabled", u.model, u.model)))
			}
		}
	}
	return nil
}
