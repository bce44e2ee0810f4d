package gate

import (
	"fmt"
	"sort"

	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

// Topic names of a model.
func stagingTopic(model string) string    { return "staging." + model }
func curatedTopic(model string) string    { return "curated." + model }
func quarantineTopic(model string) string { return "quarantine." + model }

// rowCheck is one row-level expectation of one suite.
type rowCheck struct {
	suite string
	exp   expect.RowExpectation
}

// target is everything the gate checks for one model: the suites whose
// Model it is.
type target struct {
	name   string
	suites []*suite.Suite
	rows   []rowCheck
}

// targets groups suites by model, sorted by model name.
func targets(suites []*suite.Suite) ([]*target, error) {
	byModel := map[string]*target{}
	seen := map[string]string{}
	for _, s := range suites {
		if prev, ok := seen[s.Name]; ok {
			return nil, fmt.Errorf("suite %q is declared twice (%s and %s)", s.Name, prev, s.File)
		}
		seen[s.Name] = s.File
		if s.Model == "" {
			return nil, fmt.Errorf("%s: suite %q names no model", s.File, s.Name)
		}
		t := byModel[s.Model]
		if t == nil {
			t = &target{name: s.Model}
			byModel[s.Model] = t
		}
		t.suites = append(t.suites, s)
		for _, e := range s.Expectations {
			if re, ok := e.(expect.RowExpectation); ok && e.Level() == expect.Row {
				t.rows = append(t.rows, rowCheck{suite: s.Name, exp: re})
			}
		}
	}
	out := make([]*target, 0, len(byModel))
	for _, t := range byModel {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}
