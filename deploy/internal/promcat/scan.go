package promcat

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Module is the Go module path of the riacho repository.
const Module = "github.com/riacho/riacho"

// Services are the service modules (under services/) whose metrics the
// catalog lists.
var Services = []string{"intake", "cdc", "sink", "transform", "quality", "metrics"}

// ScanRepo scans the packages linked into the six services' binaries: the
// import closure, within this repository, of services/<name>/cmd/<name>.
func ScanRepo(root string) ([]Metric, error) {
	var mains []string
	for _, s := range Services {
		mains = append(mains, filepath.Join(root, "services", s, "cmd", s))
	}
	dirs, err := closure(root, mains)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Metric
	var errs []error
	for _, d := range dirs {
		ms, err := ScanDir(d)
		errs = append(errs, err)
		for _, m := range ms {
			if !seen[m.Name] {
				seen[m.Name] = true
				out = append(out, m)
			}
		}
	}
	return out, errors.Join(errs...)
}

// isSource reports whether name is a non-test Go file.
func isSource(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}

// closure returns, sorted, the directories of the repository's packages
// that the non-test files of dirs import, transitively, dirs included.
func closure(root string, dirs []string) ([]string, error) {
	seen := map[string]bool{}
	for _, d := range dirs {
		seen[d] = true
	}
	queue := slices.Clone(dirs)
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		imps, err := imports(d)
		if err != nil {
			return nil, err
		}
		for _, imp := range imps {
			rel, ok := strings.CutPrefix(imp, Module+"/")
			if !ok {
				continue
			}
			dir := filepath.Join(root, filepath.FromSlash(rel))
			if !seen[dir] {
				seen[dir] = true
				queue = append(queue, dir)
			}
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// imports lists the import paths of the non-test files in dir.
func imports(dir string) ([]string, error) {
	files, err := parseDir(dir, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("package %s has no Go files", dir)
	}
	var out []string
	for _, f := range files {
		for _, s := range f.file.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			out = append(out, p)
		}
	}
	return out, nil
}

// parsedFile is one parsed source file with its name.
type parsedFile struct {
	path string
	file *ast.File
	fset *token.FileSet
}

// parseDir parses the non-test Go files of dir.
func parseDir(dir string, mode parser.Mode) ([]parsedFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	var out []parsedFile
	for _, e := range entries {
		if e.IsDir() || !isSource(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := parser.ParseFile(fset, p, nil, mode)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", p, err)
		}
		out = append(out, parsedFile{path: p, file: f, fset: fset})
	}
	return out, nil
}

// ScanDir returns the metric families defined by the non-test Go files of
// the package in dir. A definition whose name cannot be resolved to string
// constants is an error naming its file and line.
func ScanDir(dir string) ([]Metric, error) {
	files, err := parseDir(dir, 0)
	if err != nil {
		return nil, err
	}
	p := newPkg()
	for _, f := range files {
		p.index(f)
	}
	var out []Metric
	var errs []error
	for _, s := range p.sites {
		ms, err := p.resolve(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.where, err))
			continue
		}
		out = append(out, ms...)
	}
	return out, errors.Join(errs...)
}
