package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/metrics/internal/query"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// Verb names accepted by Control Command.
const (
	VerbExplain   = "explain"   // metric=<a,b> [grain=<g>] [dimensions=<d1,d2>]: the SQL a query would run
	VerbFreshness = "freshness" // newest event time and last load of every table
	VerbRollups   = "rollups"   // rebuild the declared rollups now
)

func (s *Service) commands() map[string]control.CommandFunc {
	return map[string]control.CommandFunc{VerbExplain: s.explainVerb, VerbFreshness: s.freshnessVerb, VerbRollups: s.rollupsVerb}
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Service) explainVerb(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	req := query.Request{Metrics: splitList(args["metric"]), Grain: args["grain"], Dimensions: splitList(args["dimensions"])}
	if len(req.Metrics) == 0 {
		return nil, fmt.Errorf("%w: metric=<name> is required", control.ErrInvalidArgument)
	}
	plan, err := s.api.Compiler().Compile(req, s.store.Dialect, query.CompileOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", control.ErrInvalidArgument, err)
	}
	return &controlv1.CommandResponse{Output: plan.SQL + "\n", Result: map[string]string{
		"sql": plan.SQL, "dialect": string(s.store.Dialect), "models": strings.Join(plan.Models, ","),
	}}, nil
}

func (s *Service) freshnessVerb(ctx context.Context, _ map[string]string) (*controlv1.CommandResponse, error) {
	fr, gen, err := warehouse.ReadFreshness(ctx, s.store)
	if err != nil {
		return nil, fmt.Errorf("%w: warehouse: %w", control.ErrFailedPrecondition, err)
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tROWS LOADED\tNEWEST EVENT\tLAST LOAD")
	res := map[string]string{"generation": strconv.FormatInt(gen, 10)}
	for _, t := range s.schema.Tables {
		f := fr[t.Name]
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", t.Name, f.Rows, stamp(f.MaxEventTime), stamp(f.LoadedAt))
		res[t.Name+".rows"] = strconv.FormatInt(f.Rows, 10)
		res[t.Name+".newest_event_time"] = stamp(f.MaxEventTime)
	}
	_ = w.Flush()
	return &controlv1.CommandResponse{Output: b.String(), Result: res}, nil
}

func (s *Service) rollupsVerb(ctx context.Context, _ map[string]string) (*controlv1.CommandResponse, error) {
	names := make([]string, 0, len(s.schema.Rollups))
	for _, r := range s.schema.Rollups {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		return &controlv1.CommandResponse{Output: "no rollups declared\n"}, nil
	}
	if err := s.api.RefreshRollups(ctx, names); err != nil {
		return nil, err
	}
	return &controlv1.CommandResponse{Output: "rebuilt " + strings.Join(names, ", ") + "\n",
		Result: map[string]string{"rollups": strings.Join(names, ",")}}, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Service) status(ctx context.Context, resp *controlv1.StatusResponse) {
	if resp.Details == nil {
		resp.Details = map[string]string{}
	}
	d := resp.Details
	d["http_addr"] = s.HTTPAddr()
	d["ops_addr"] = s.OpsAddr()
	d["warehouse"] = s.store.DSN
	d["metrics"] = strconv.Itoa(len(s.api.Compiler().Metrics()))
	d["generation"] = strconv.FormatInt(s.api.Generation(), 10)
	if s.loader != nil {
		st := s.loader.Status()
		d["loader.generation"] = strconv.FormatInt(st.Generation, 10)
		if !st.LastCommit.IsZero() {
			d["loader.last_commit"] = stamp(st.LastCommit)
		}
		if st.LastError != "" {
			d["loader.last_error"] = st.LastError
		}
		for name, n := range st.Rows {
			d["table."+name+".rows_loaded"] = strconv.FormatInt(n, 10)
		}
		d["lag_records"] = strconv.FormatInt(st.Lag, 10)
	}
	s.statusFreshness(ctx, resp)
}

// rowsLoaded is the loader's running total of rows written, every table.
func (s *Service) rowsLoaded() uint64 {
	if s.loader == nil {
		return 0
	}
	var n int64
	for _, rows := range s.loader.Status().Rows {
		n += rows
	}
	return uint64(max(n, 0))
}

// statusFreshness adds the newest event time of every warehouse table; the
// SLA of a source is the quality service's to judge, so none is set here.
func (s *Service) statusFreshness(ctx context.Context, resp *controlv1.StatusResponse) {
	fresh, _, err := warehouse.ReadFreshness(ctx, s.store)
	if err != nil {
		resp.Details["freshness_error"] = err.Error()
		return
	}
	now := time.Now()
	for _, name := range slices.Sorted(maps.Keys(fresh)) {
		f := &controlv1.Freshness{Scope: "table", Name: name}
		if ev := fresh[name].MaxEventTime; !ev.IsZero() {
			f.Newest, f.Age = timestamppb.New(ev), durationpb.New(max(0, now.Sub(ev)))
		}
		resp.Freshness = append(resp.Freshness, f)
	}
}
