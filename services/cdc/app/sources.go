package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/riacho/riacho/services/cdc/internal/pgcdc"
	"github.com/riacho/riacho/services/cdc/internal/poll"
)

// SourcesFile is the content of RIACHO_CDC_CONFIG: the sources to capture.
//
//	sources:
//	  - name: erp                 # topics raw.erp.<schema>.<table>
//	    postgres:
//	      url_env: ERP_DATABASE_URL
//	      include: [public.*]
//	  - name: sap
//	    sapb1: {url: https://b1:50000/b1s/v1, company_db: SBODEMOBR, username: manager, password_env: SAP_PASSWORD, entities: [{name: Invoices}]}
type SourcesFile struct {
	Sources []Source `yaml:"sources"`
}

// Source is one captured system; exactly one of its kinds is set.
type Source struct {
	// Name is the riacho source name, the second part of its topics.
	Name     string              `yaml:"name"`
	Postgres *PostgresSource     `yaml:"postgres"`
	SAPB1    *poll.SAPB1Config   `yaml:"sapb1"`
	Ploomes  *poll.PloomesConfig `yaml:"ploomes"`
	SQL      *poll.SQLConfig     `yaml:"sql"`

	line int // where the source starts in its file, for errors
	file string
}

// PostgresSource is log-based capture of one PostgreSQL database. The
// connection string comes from url, or from the environment variable named
// by url_env (to keep passwords out of files).
type PostgresSource struct {
	pgcdc.Config `yaml:",inline"`
	URLEnv       string `yaml:"url_env"`
}

// Kind names the source's kind.
func (s *Source) Kind() string {
	switch {
	case s.Postgres != nil:
		return "postgres"
	case s.SAPB1 != nil:
		return "sapb1"
	case s.Ploomes != nil:
		return "ploomes"
	case s.SQL != nil:
		return "sql"
	}
	return ""
}

// Where is "file:line" of the source's entry.
func (s *Source) Where() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// LoadSources reads and checks a sources file. Errors name the file and
// line: unknown keys, wrong types, and invalid settings of each source.
// Environment lookups (url_env, password_env, ...) use getenv.
func LoadSources(path string, getenv func(string) string) ([]Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cdc sources: %w", err)
	}
	return ParseSources(path, b, getenv)
}

// ParseSources is LoadSources on content already read; name is used in errors.
func ParseSources(name string, content []byte, getenv func(string) string) ([]Source, error) {
	var f SourcesFile
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// A second pass over the node tree finds where each source starts.
	var root yaml.Node
	if err := yaml.Unmarshal(content, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	lines := sourceLines(&root)
	if len(f.Sources) == 0 {
		return nil, fmt.Errorf("%s: no sources: the file needs a sources: list with at least one entry", name)
	}
	var errs []error
	seen := map[string]string{}
	for i := range f.Sources {
		s := &f.Sources[i]
		s.file = name
		if i < len(lines) {
			s.line = lines[i]
		}
		if err := s.check(getenv); err != nil {
			errs = append(errs, fmt.Errorf("%s: source %q: %w", s.Where(), s.Name, err))
			continue
		}
		if prev, dup := seen[s.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: source %q is already defined at %s", s.Where(), s.Name, prev))
		}
		seen[s.Name] = s.Where()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f.Sources, nil
}

// sourceLines returns the line of each entry of the top-level sources list.
func sourceLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "sources" && m.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, n := range m.Content[i+1].Content {
				out = append(out, n.Line)
			}
			return out
		}
	}
	return nil
}

// check applies defaults, resolves environment references and validates.
func (s *Source) check(getenv func(string) string) error {
	if !sourceName.MatchString(s.Name) {
		return fmt.Errorf("name must match %s (lower case; it becomes part of topic names)", sourceName)
	}
	kinds := 0
	for _, set := range []bool{s.Postgres != nil, s.SAPB1 != nil, s.Ploomes != nil, s.SQL != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return errors.New("exactly one of postgres, sapb1, ploomes or sql must be set")
	}
	switch {
	case s.Postgres != nil:
		p := s.Postgres
		if p.URLEnv != "" {
			if p.URL != "" {
				return errors.New("postgres: set url or url_env, not both")
			}
			p.URL = getenv(p.URLEnv)
			if p.URL == "" {
				return fmt.Errorf("postgres: url_env %s is not set", p.URLEnv)
			}
		}
		p.Source = s.Name
		p.Defaults()
		return p.Validate()
	case s.SAPB1 != nil:
		s.SAPB1.Defaults()
		return s.SAPB1.Validate()
	case s.Ploomes != nil:
		s.Ploomes.Defaults()
		return s.Ploomes.Validate()
	default:
		s.SQL.Defaults()
		return s.SQL.Validate()
	}
}
