package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/transform/internal/engine"
)

// Verb names accepted by Control Command.
const (
	VerbModels   = "models"   // every model with its DAG edges, state and lag
	VerbCompiled = "compiled" // model=<name>: the model's compiled SQL
	VerbPause    = "pause"    // model=<name>: stop reading the model's input
	VerbResume   = "resume"   // model=<name>: undo pause
	VerbReplay   = "replay"   // model=<name> from_offset=<n>|from_time=<RFC 3339> [partitions=0,1]
	VerbTail     = "tail"     // model=<name> [n=10]: the newest committed output records, decoded
)

func (s *Service) commands() map[string]control.CommandFunc {
	return map[string]control.CommandFunc{
		VerbModels:   s.modelsVerb,
		VerbCompiled: s.compiledVerb,
		VerbPause:    s.pauseVerb,
		VerbResume:   s.resumeVerb,
		VerbReplay:   s.replayVerb,
		VerbTail:     s.tailVerb,
	}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", control.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// modelArg returns args["model"], checked against the running models.
func (s *Service) modelArg(verb string, args map[string]string) (string, error) {
	name := strings.TrimSpace(args["model"])
	if name == "" {
		return "", invalid("%s needs model=<name> (see the verb models)", verb)
	}
	for _, m := range s.eng.Models() {
		if m.Name == name {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: model %q (see the verb models)", control.ErrNotFound, name)
}

func (s *Service) modelsVerb(ctx context.Context, _ map[string]string) (*controlv1.CommandResponse, error) {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "MODEL\tINPUT\tOUTPUT\tDEPENDS ON\tSTATE\tIN\tOUT\tDUPLICATES\tDEAD LETTERS\tLAG")
	res := map[string]string{}
	sts := s.eng.Status(ctx, true)
	for _, st := range sts {
		state := st.State
		if st.Paused {
			state += " (paused)"
		}
		deps := strings.Join(st.DependsOn, ",")
		if deps == "" {
			deps = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", st.Name, st.Input, st.Output, deps, state,
			st.In, st.Out, st.Duplicates, st.DeadLetters, st.LagTotal)
		p := st.Name + "."
		res[p+"input"], res[p+"output"], res[p+"depends_on"] = st.Input, st.Output, strings.Join(st.DependsOn, ",")
		res[p+"state"], res[p+"paused"] = st.State, strconv.FormatBool(st.Paused)
		res[p+"lag"] = strconv.FormatInt(st.LagTotal, 10)
		res[p+"records_in"], res[p+"records_out"] = strconv.FormatInt(st.In, 10), strconv.FormatInt(st.Out, 10)
		if st.LastError != "" {
			res[p+"last_error"] = st.LastError
		}
	}
	_ = w.Flush()
	res["count"] = strconv.Itoa(len(sts))
	return &controlv1.CommandResponse{Output: b.String(), Result: res}, nil
}

func (s *Service) compiledVerb(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	name, err := s.modelArg(VerbCompiled, args)
	if err != nil {
		return nil, err
	}
	for _, m := range s.eng.Models() {
		if m.Name != name {
			continue
		}
		res := map[string]string{
			"path": m.Path, "output": m.OutputTopic, "materialized": m.Config.Materialized,
			"unique_key": strings.Join(m.Config.UniqueKey, ","), "depends_on": strings.Join(m.DependsOn, ","),
		}
		for i, in := range m.Inputs {
			res["input."+strconv.Itoa(i)] = in.Topic + " as " + in.Table
		}
		return &controlv1.CommandResponse{Output: m.SQL, Result: res}, nil
	}
	return nil, fmt.Errorf("%w: model %q", control.ErrNotFound, name)
}

func (s *Service) pauseVerb(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	name, err := s.modelArg(VerbPause, args)
	if err != nil {
		return nil, err
	}
	if err := s.eng.Pause(name); err != nil {
		return nil, err
	}
	s.log.Warn("model paused", "model", name, "reason", args["reason"])
	return &controlv1.CommandResponse{Output: "model " + name + " paused", Result: map[string]string{"model": name, "paused": "true"}}, nil
}

func (s *Service) resumeVerb(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	name, err := s.modelArg(VerbResume, args)
	if err != nil {
		return nil, err
	}
	if err := s.eng.Resume(name); err != nil {
		return nil, err
	}
	s.log.Info("model resumed", "model", name)
	return &controlv1.CommandResponse{Output: "model " + name + " resumed", Result: map[string]string{"model": name, "paused": "false"}}, nil
}

func (s *Service) replayVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	name, err := s.modelArg(VerbReplay, args)
	if err != nil {
		return nil, err
	}
	from := engine.ReplayFrom{Offset: -1}
	off, tm := strings.TrimSpace(args["from_offset"]), strings.TrimSpace(args["from_time"])
	switch {
	case off != "" && tm != "":
		return nil, invalid("replay takes from_offset or from_time, not both")
	case off != "":
		if from.Offset, err = strconv.ParseInt(off, 10, 64); err != nil || from.Offset < 0 {
			return nil, invalid("from_offset %q is not an offset (a number >= 0)", off)
		}
	case tm != "":
		if from.Time, err = time.Parse(time.RFC3339Nano, tm); err != nil {
			return nil, invalid("from_time %q is not an RFC 3339 time (e.g. 2026-11-26T12:00:00Z)", tm)
		}
	default:
		return nil, invalid("replay needs from_offset=<n> or from_time=<RFC 3339>")
	}
	if ps := strings.TrimSpace(args["partitions"]); ps != "" {
		for _, p := range strings.Split(ps, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
			if err != nil || n < 0 {
				return nil, invalid("partitions %q: %q is not a partition number", ps, p)
			}
			from.Partitions = append(from.Partitions, int32(n))
		}
	}
	set, err := s.eng.Replay(ctx, name, from)
	if errors.Is(err, engine.ErrReplayInProgress) {
		return nil, fmt.Errorf("%w: %w", control.ErrFailedPrecondition, err)
	}
	if err != nil {
		if strings.Contains(err.Error(), "has no partitions") {
			return nil, invalid("%v", err)
		}
		return nil, err
	}
	parts := make([]int32, 0, len(set))
	for p := range set {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	res := map[string]string{"model": name}
	lines := make([]string, 0, len(parts))
	for _, p := range parts {
		res["partition."+strconv.Itoa(int(p))] = strconv.FormatInt(set[p], 10)
		lines = append(lines, fmt.Sprintf("partition %d from offset %d", p, set[p]))
	}
	return &controlv1.CommandResponse{Output: "model " + name + " replays: " + strings.Join(lines, ", "), Result: res}, nil
}

func (s *Service) tailVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	name, err := s.modelArg(VerbTail, args)
	if err != nil {
		return nil, err
	}
	n := 10
	if v := strings.TrimSpace(args["n"]); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			return nil, invalid("n %q must be a number from 1 to 1000", v)
		}
	}
	recs, err := s.eng.Tail(ctx, name, n)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, r := range recs {
		line, err := json.Marshal(map[string]any{"key": r.Key, "partition": r.Partition, "offset": r.Offset,
			"timestamp": r.Timestamp.Format(time.RFC3339Nano), "value": r.Value})
		if err != nil {
			return nil, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if len(recs) == 0 {
		b.WriteString("no committed records yet\n")
	}
	return &controlv1.CommandResponse{Output: b.String(), Result: map[string]string{"model": name, "count": strconv.Itoa(len(recs))}}, nil
}
