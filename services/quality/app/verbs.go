package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// Verb names accepted by Control Command.
const (
	VerbSuites  = "suites"  // every suite: model, file, expectations, state and counts
	VerbResults = "results" // [model=<name>] [suite=<name>]: the newest window result of each suite, GE JSON
)

func (s *Service) commands() map[string]control.CommandFunc {
	return map[string]control.CommandFunc{VerbSuites: s.suitesVerb, VerbResults: s.resultsVerb}
}

func (s *Service) suitesVerb(context.Context, map[string]string) (*controlv1.CommandResponse, error) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SUITE\tMODEL\tEXPECTATIONS\tFILE")
	res := map[string]string{"count": strconv.Itoa(len(s.suites))}
	for _, su := range s.suites {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", su.Name, su.Model, len(su.Expectations), su.File)
		res[su.Name+".model"] = su.Model
		res[su.Name+".expectations"] = strconv.Itoa(len(su.Expectations))
	}
	_ = w.Flush()
	b.WriteString("\nMODEL\tSTATE\tCURATED\tQUARANTINED\tWINDOW RESULTS\n")
	for _, st := range s.gate.Status() {
		fmt.Fprintf(&b, "%s\t%s\t%d\t%d\t%d\n", st.Model, st.State, st.Curated, st.Quarantined, st.Results)
		res["model."+st.Model+".curated"] = strconv.FormatInt(st.Curated, 10)
		res["model."+st.Model+".quarantined"] = strconv.FormatInt(st.Quarantined, 10)
	}
	return &controlv1.CommandResponse{Output: b.String(), Result: res}, nil
}

func (s *Service) resultsVerb(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	model, suiteName := strings.TrimSpace(args["model"]), strings.TrimSpace(args["suite"])
	var lines []string
	res := map[string]string{}
	found := false
	for _, st := range s.gate.Status() {
		if model != "" && st.Model != model {
			continue
		}
		found = true
		names := make([]string, 0, len(st.Latest))
		for n := range st.Latest {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if suiteName != "" && n != suiteName {
				continue
			}
			r := st.Latest[n]
			j, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			lines = append(lines, string(j))
			res[n+".success"] = strconv.FormatBool(r.Success)
			res[n+".evaluated"] = strconv.Itoa(r.Statistics.EvaluatedExpectations)
			res[n+".successful"] = strconv.Itoa(r.Statistics.SuccessfulExpectations)
		}
	}
	if model != "" && !found {
		return nil, fmt.Errorf("%w: model %q (see the verb suites)", control.ErrNotFound, model)
	}
	res["count"] = strconv.Itoa(len(lines))
	if len(lines) == 0 {
		lines = append(lines, "no window results yet")
	}
	return &controlv1.CommandResponse{Output: strings.Join(lines, "\n"), Result: res}, nil
}
