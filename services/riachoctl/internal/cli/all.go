package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"text/tabwriter"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// result is one service's answer (or failure) in --service all mode.
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
			conn, err := dial(ep.Addr)
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
	if o.json {
		if err := writeAllJSON(r, results); err != nil {
			fmt.Fprintf(r.stderr, "riachoctl: %v\n", err)
			return ExitFailed
		}
		return code
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	if o.command == "health" {
		fmt.Fprintln(tw, "SERVICE\tADDRESS\tHEALTH\tERROR")
	} else {
		fmt.Fprintln(tw, "SERVICE\tADDRESS\tSTATE\tVERSION\tLAG\tLAST ERROR")
	}
	for _, res := range results {
		if res.err != nil {
			if o.command == "health" {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.ep.Name, res.ep.Addr, failState(res.err), oneLine(describe(res.err)))
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t%s\n", res.ep.Name, res.ep.Addr, failState(res.err), oneLine(describe(res.err)))
			}
			continue
		}
		switch m := res.msg.(type) {
		case *healthpb.HealthCheckResponse:
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\n", res.ep.Name, res.ep.Addr, m.GetStatus())
		case *controlv1.StatusResponse:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", res.ep.Name, res.ep.Addr, stateName(m.GetState()),
				orDash(m.GetVersion()), totalLag(m), orDash(oneLine(m.GetLastError())))
		}
	}
	_ = tw.Flush()
	if code != ExitOK {
		fmt.Fprintln(r.stderr, "riachoctl: some services failed to answer or are not serving")
	}
	return code
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
func writeAllJSON(r *runner, results []result) error {
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
	enc := json.NewEncoder(r.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
