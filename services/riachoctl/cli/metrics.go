package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
)

// metricsReq is a parsed "metrics" command: list, or a query.
type metricsReq struct {
	list  bool
	query *metricsv1.QueryRequest
}

// filterOps are the filter operators, longest first so "not in" wins over "in".
var filterOps = []string{"is not null", "is null", "not in", "<=", ">=", "!=", "<>", "like", "in", "=", "<", ">"}

// metricsCall parses the words after "metrics".
func metricsCall(words []string) (metricsReq, error) {
	if len(words) == 0 {
		return metricsReq{}, fmt.Errorf("%w: metrics needs list or query", errUsage)
	}
	switch words[0] {
	case "list":
		if len(words) > 1 {
			return metricsReq{}, fmt.Errorf("%w: metrics list takes no arguments", errUsage)
		}
		return metricsReq{list: true}, nil
	case "query":
		q, err := parseQuery(words[1:])
		return metricsReq{query: q}, err
	}
	return metricsReq{}, fmt.Errorf("%w: unknown metrics command %q (list or query)", errUsage, words[0])
}

// parseQuery reads METRIC[,METRIC] and key=value words into a QueryRequest.
func parseQuery(words []string) (*metricsv1.QueryRequest, error) {
	q := &metricsv1.QueryRequest{}
	seen := map[string]bool{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			if len(q.Metrics) > 0 {
				return nil, fmt.Errorf("%w: %q: give the metrics once, as METRIC[,METRIC]", errUsage, w)
			}
			q.Metrics = splitList(w)
			continue
		}
		if seen[k] && k != "where" {
			return nil, fmt.Errorf("%w: argument %q given twice", errUsage, k)
		}
		seen[k] = true
		if err := setQueryField(q, k, v); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errUsage, k, err)
		}
	}
	if len(q.Metrics) == 0 {
		return nil, fmt.Errorf("%w: metrics query needs a METRIC (see riachoctl metrics list)", errUsage)
	}
	return q, nil
}

// setQueryField applies one key=value argument to q.
func setQueryField(q *metricsv1.QueryRequest, k, v string) error {
	switch k {
	case "metrics":
		q.Metrics = append(q.Metrics, splitList(v)...)
	case "grain":
		q.Grain = v
	case "dimensions":
		q.Dimensions = splitList(v)
	case "start", "end":
		t, err := parseTime(v)
		if err != nil {
			return err
		}
		if k == "start" {
			q.Start = timestamppb.New(t)
		} else {
			q.End = timestamppb.New(t)
		}
	case "limit":
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a row count", v)
		}
		q.Limit = int32(n)
	case "order":
		for _, f := range splitList(v) {
			field, desc := strings.CutPrefix(f, "-")
			q.Order = append(q.Order, &metricsv1.Order{Field: field, Desc: desc})
		}
	case "where":
		f, err := parseFilter(v)
		if err != nil {
			return err
		}
		q.Filters = append(q.Filters, f)
	case "no_cache":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		q.NoCache = b
	default:
		return errors.New("unknown argument (grain, dimensions, start, end, where, order, limit, no_cache)")
	}
	return nil
}

// parseFilter reads "FIELD OP VALUE[,VALUE]", e.g. "customer_segment in SMB,Enterprise".
func parseFilter(s string) (*metricsv1.Filter, error) {
	field, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	rest = strings.TrimSpace(rest)
	if field == "" || rest == "" {
		return nil, fmt.Errorf("%q is not FIELD OP VALUE", s)
	}
	for _, op := range filterOps {
		after, ok := strings.CutPrefix(strings.ToLower(rest), op)
		if !ok || (after != "" && isWordOp(op) && after[0] != ' ') {
			continue
		}
		f := &metricsv1.Filter{Field: field, Operator: op}
		if vals := strings.TrimSpace(rest[len(op):]); vals != "" {
			f.Values = splitList(vals)
		}
		return f, nil
	}
	return nil, fmt.Errorf("%q has no operator (one of %s)", s, strings.Join(filterOps, ", "))
}

// isWordOp tells operators made of letters, which must end at a space.
func isWordOp(op string) bool { return op[0] >= 'a' && op[0] <= 'z' }

// splitList splits a comma list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseTime accepts RFC 3339 or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return t, nil
}

// invokeMetrics calls the MetricsService; a query's stream is merged into
// one QueryResponse with every row.
func invokeMetrics(ctx context.Context, conn *grpc.ClientConn, o options) (proto.Message, error) {
	req, err := metricsCall(o.args)
	if err != nil {
		return nil, err
	}
	c := metricsv1.NewMetricsServiceClient(conn)
	if req.list {
		return c.ListMetrics(ctx, &metricsv1.ListMetricsRequest{})
	}
	stream, err := c.Query(ctx, req.query)
	if err != nil {
		return nil, err
	}
	var all *metricsv1.QueryResponse
	for {
		part, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = part
			continue
		}
		all.Rows = append(all.Rows, part.GetRows()...)
	}
	if all == nil {
		all = &metricsv1.QueryResponse{}
	}
	return all, nil
}

// printQuery prints a query answer as a table, then where its data stands.
func printQuery(w io.Writer, m *metricsv1.QueryResponse) {
	tw := newTable(w)
	names := make([]string, 0, len(m.GetColumns()))
	for _, c := range m.GetColumns() {
		names = append(names, strings.ToUpper(c.GetName()))
	}
	fmt.Fprintln(tw, strings.Join(names, "\t"))
	for _, r := range m.GetRows() {
		cells := make([]string, 0, len(r.GetValues()))
		for _, v := range r.GetValues() {
			cells = append(cells, valueText(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n%d rows", len(m.GetRows()))
	if m.GetCached() {
		fmt.Fprint(w, ", from the cache")
	}
	if m.GetRollup() != "" {
		fmt.Fprintf(w, ", from rollup %s", m.GetRollup())
	}
	fmt.Fprintln(w)
	printModelFreshness(w, m.GetFreshness())
}

// printMetricList prints the defined metrics and their models' freshness.
func printMetricList(w io.Writer, m *metricsv1.ListMetricsResponse) {
	tw := newTable(w)
	fmt.Fprintln(tw, "METRIC\tMODEL\tCALCULATION\tGRAINS\tDIMENSIONS\tLABEL")
	for _, d := range m.GetMetrics() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.GetName(), orDash(d.GetModel()), d.GetCalculationMethod(),
			strings.Join(d.GetTimeGrains(), ","), orDash(strings.Join(d.GetDimensions(), ",")), orDash(d.GetLabel()))
	}
	_ = tw.Flush()
	printModelFreshness(w, m.GetFreshness())
}

// printModelFreshness says how new the data behind an answer is.
func printModelFreshness(w io.Writer, fs []*metricsv1.Freshness) {
	fs = slices.Clone(fs)
	slices.SortFunc(fs, func(a, b *metricsv1.Freshness) int { return strings.Compare(a.GetModel(), b.GetModel()) })
	for _, f := range fs {
		ev, at := "-", "-"
		if f.GetNewestEventTime() != nil {
			ev = f.GetNewestEventTime().AsTime().UTC().Format(time.RFC3339)
		}
		if f.GetLoadedAt() != nil {
			at = f.GetLoadedAt().AsTime().UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "data: %s newest event %s, loaded %s\n", f.GetModel(), ev, at)
	}
}

// valueText renders one answer cell.
func valueText(v *metricsv1.Value) string {
	switch k := v.GetKind().(type) {
	case *metricsv1.Value_Null:
		return "null"
	case *metricsv1.Value_Decimal:
		return k.Decimal
	case *metricsv1.Value_Int:
		return strconv.FormatInt(k.Int, 10)
	case *metricsv1.Value_Float:
		return strconv.FormatFloat(k.Float, 'g', -1, 64)
	case *metricsv1.Value_Bool:
		return strconv.FormatBool(k.Bool)
	case *metricsv1.Value_Text:
		return k.Text
	case *metricsv1.Value_Time:
		return k.Time.AsTime().UTC().Format(time.RFC3339)
	}
	return "-"
}
