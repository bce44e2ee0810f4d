package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// result is one service's answer (or failure) when every service is asked.
type result struct {
	ep  Endpoint
	msg proto.Message
	err error
}

// runAll queries every endpoint concurrently and prints one table.
func (r *runner) runAll(ctx context.Context, o options) int {
	results := make([]result, len(r.endpoints))
	var wg sync.WaitGroup
	for i, ep := range r.endpoints {
		wg.Go(func() {
			results[i] = result{ep: ep}
			conn, err := dial(ep.Addr, o)
			if err != nil {
				results[i].err = err
				return
			}
			defer conn.Close()
			results[i].msg, results[i].err = invoke(ctx, conn, o)
		})
	}
	wg.Wait()

	code := ExitOK
	for _, res := range results {
		if res.err != nil {
			code = ExitFailed
			continue
		}
		if h, ok := res.msg.(*healthpb.HealthCheckResponse); ok && h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			code = ExitFailed
		}
	}
	if o.output == outputJSON {
		if err := writeAllJSON(r.stdout, results); err != nil {
			fmt.Fprintf(r.stderr, "riachoctl: %v\n", err)
			return ExitFailed
		}
	} else if o.command == "health" {
		printHealthTable(r.stdout, results)
	} else {
		printPipeline(r.stdout, results, time.Now())
	}
	if code != ExitOK {
		for _, res := range results {
			if res.err != nil {
				fmt.Fprintf(r.stderr, "riachoctl: %s (%s): %s\n", res.ep.Name, res.ep.Addr, explain(res.err, o))
			}
		}
		fmt.Fprintln(r.stderr, "riachoctl: some services failed to answer or are not serving")
	}
	return code
}

// printHealthTable prints one row per service.
func printHealthTable(w io.Writer, results []result) {
	tw := newTable(w)
	fmt.Fprintln(tw, "SERVICE\tADDRESS\tHEALTH\tERROR")
	for _, res := range results {
		if res.err != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.ep.Name, res.ep.Addr, failState(res.err), oneLine(describe(res.err)))
			continue
		}
		if h, ok := res.msg.(*healthpb.HealthCheckResponse); ok {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\n", res.ep.Name, res.ep.Addr, h.GetStatus())
		}
	}
	_ = tw.Flush()
}

// printPipeline prints the pipeline table (a row per service) and then the
// freshness of every source and table the services watch.
func printPipeline(w io.Writer, results []result, now time.Time) {
	tw := newTable(w)
	fmt.Fprintln(tw, "SERVICE\tADDRESS\tSTATE\tLAG\tRATES\tFRESHNESS\tLAST ERROR")
	var fresh []serviceFreshness
	for _, res := range results {
		if res.err != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t%s\n", res.ep.Name, res.ep.Addr, failState(res.err), oneLine(describe(res.err)))
			continue
		}
		m, ok := res.msg.(*controlv1.StatusResponse)
		if !ok {
			continue
		}
		for _, f := range m.GetFreshness() {
			fresh = append(fresh, serviceFreshness{service: res.ep.Name, f: f})
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", res.ep.Name, res.ep.Addr, stateName(m.GetState()),
			lagText(m), ratesText(m), freshnessSummary(m.GetFreshness()), orDash(lastError(m, now)))
	}
	_ = tw.Flush()
	if len(fresh) == 0 {
		return
	}
	fmt.Fprintln(w)
	printFreshness(w, fresh, true)
}

// serviceFreshness is one freshness row with the service that reported it.
type serviceFreshness struct {
	service string
	f       *controlv1.Freshness
}

// printFreshness prints freshness rows, sources first.
func printFreshness(w io.Writer, rows []serviceFreshness, withService bool) {
	slices.SortStableFunc(rows, func(a, b serviceFreshness) int {
		if c := strings.Compare(scopeOrder(a.f.GetScope()), scopeOrder(b.f.GetScope())); c != 0 {
			return c
		}
		return strings.Compare(a.f.GetName(), b.f.GetName())
	})
	tw := newTable(w)
	head := "SCOPE\tNAME\tNEWEST EVENT\tAGE\tSLA\tFRESHNESS"
	if withService {
		head = "SERVICE\t" + head
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		f := r.f
		newest := "-"
		if f.GetNewest() != nil {
			newest = f.GetNewest().AsTime().UTC().Format(time.RFC3339)
		}
		sla := "-"
		if f.GetSla() != nil && f.GetSla().AsDuration() > 0 {
			sla = f.GetSla().AsDuration().String()
		}
		age := "-"
		if f.GetAge() != nil {
			age = f.GetAge().AsDuration().Round(time.Second).String()
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", f.GetScope(), f.GetName(), newest, age, sla, freshnessState(f))
		if withService {
			line = r.service + "\t" + line
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
}

// scopeOrder sorts sources before tables.
func scopeOrder(scope string) string {
	if scope == "source" {
		return "0"
	}
	return "1" + scope
}

// freshnessState is BREACHED, ok, waiting (nothing yet) or "no SLA".
func freshnessState(f *controlv1.Freshness) string {
	switch {
	case f.GetBreached():
		return "BREACHED"
	case f.GetSla() == nil || f.GetSla().AsDuration() <= 0:
		return "no SLA"
	case f.GetNewest() == nil:
		return "waiting"
	}
	return "ok"
}

// freshnessSummary condenses a service's freshness into one cell.
func freshnessSummary(fs []*controlv1.Freshness) string {
	if len(fs) == 0 {
		return "-"
	}
	var breached []string
	for _, f := range fs {
		if f.GetBreached() {
			breached = append(breached, f.GetName())
		}
	}
	if len(breached) > 0 {
		return fmt.Sprintf("%d BREACHED (%s)", len(breached), strings.Join(breached, ","))
	}
	return fmt.Sprintf("%d ok", len(fs))
}

// lagText is the consumer lag in records, or the replication lag a CDC
// service reports in bytes.
func lagText(m *controlv1.StatusResponse) string {
	if len(m.GetLag()) > 0 {
		return strconv.FormatInt(totalLag(m), 10)
	}
	d := m.GetDetails()
	if v, ok := d["lag_records"]; ok {
		return v
	}
	var wal int64
	found := false
	for _, k := range slices.Sorted(maps.Keys(d)) {
		if strings.HasPrefix(k, "source.") && strings.HasSuffix(k, ".lag_bytes") {
			n, err := strconv.ParseInt(d[k], 10, 64)
			if err == nil {
				wal, found = wal+n, true
			}
		}
	}
	if found {
		return fmt.Sprintf("%d B WAL", wal)
	}
	return "-"
}

// ratesText lists every rate as name=N/s.
func ratesText(m *controlv1.StatusResponse) string {
	if len(m.GetRates()) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m.GetRates()))
	for _, r := range m.GetRates() {
		parts = append(parts, fmt.Sprintf("%s=%.1f/s", r.GetName(), r.GetPerSecond()))
	}
	return strings.Join(parts, " ")
}

// lastError is the last error with its age, on one line.
func lastError(m *controlv1.StatusResponse, now time.Time) string {
	e := oneLine(m.GetLastError())
	if e == "" {
		return ""
	}
	if len(e) > 80 {
		e = e[:77] + "..."
	}
	if m.GetLastErrorAt() != nil {
		e += fmt.Sprintf(" (%s ago)", now.Sub(m.GetLastErrorAt().AsTime()).Round(time.Second))
	}
	return e
}

// failState labels a failed service in the table.
func failState(err error) string {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return "UNREACHABLE"
	}
	return "ERROR"
}

// writeAllJSON prints a JSON array with one object per service.
func writeAllJSON(w io.Writer, results []result) error {
	type failure struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	type entry struct {
		Service  string          `json:"service"`
		Address  string          `json:"address"`
		Response json.RawMessage `json:"response,omitempty"`
		Error    *failure        `json:"error,omitempty"`
	}
	out := make([]entry, 0, len(results))
	for _, res := range results {
		e := entry{Service: res.ep.Name, Address: res.ep.Addr}
		if res.err != nil {
			st := status.Convert(res.err)
			e.Error = &failure{Code: st.Code().String(), Message: st.Message()}
		} else {
			b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(res.msg)
			if err != nil {
				return fmt.Errorf("encode %s response: %w", res.ep.Name, err)
			}
			e.Response = b
		}
		out = append(out, e)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
