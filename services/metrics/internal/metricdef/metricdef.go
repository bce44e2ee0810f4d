// Package metricdef loads dbt metric definitions (the legacy `metrics:` spec of dbt 1.3/1.4) from YAML files.
package metricdef

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ErrInvalid is wrapped by every validation error about a metric definition.
var ErrInvalid = errors.New("invalid metric definition")

// Metric is one dbt metric definition.
type Metric struct {
	Name, Label, Model, Description, CalculationMethod, Expression, Timestamp string
	TimeGrains, Dimensions                                                    []string
	Window                                                                    *Window
	Filters                                                                   []Filter
	Meta                                                                      map[string]any
	Enabled                                                                   bool
	Tags                                                                      []string
	File                                                                      string
	Line                                                                      int
}

// Window is a rolling window over the metric's timestamp.
type Window struct {
	Count  int
	Period string
}

// Filter is one condition ANDed into the metric's query; Value keeps the literal YAML text.
type Filter struct {
	Field, Operator, Value string
	Kind                   string // string|bool|number|null
}

// LoadDir parses every *.yml and *.yaml file under dir, checks names are unique, and returns metrics sorted by name.
func LoadDir(dir string) ([]Metric, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", dir, err)
	}
	sort.Strings(files)
	var all []Metric
	var errs []error
	seen := map[string]Metric{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", f, err))
			continue
		}
		ms, err := ParseFile(f, data)
		if err != nil {
			errs = append(errs, err)
		}
		for _, m := range ms {
			if prev, ok := seen[m.Name]; ok {
				errs = append(errs, fmt.Errorf("%s:%d: metric %s: name: duplicate of %s:%d: %w", m.File, m.Line, m.Name, prev.File, prev.Line, ErrInvalid))
				continue
			}
			seen[m.Name] = m
			all = append(all, m)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, errors.Join(errs...)
}

var identRe = regexp.MustCompile(`[A-Za-z_][\w]*`)

// DependsOn returns, sorted and unique, the names in known referenced by a derived metric's expression.
func DependsOn(m Metric, known map[string]bool) []string {
	if m.CalculationMethod != "derived" {
		return nil
	}
	set := map[string]bool{}
	for _, id := range identRe.FindAllString(stripStrings(m.Expression), -1) {
		if known[id] && id != m.Name {
			set[id] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stripStrings blanks out single-quoted SQL literals so words inside them are not taken as references.
func stripStrings(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		if r == '\'' {
			in = !in
			b.WriteRune(' ')
			continue
		}
		if in {
			b.WriteRune(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
