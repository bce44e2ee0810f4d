package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
)

// writeJSON prints msg as indented protojson with every field present.
func writeJSON(w io.Writer, msg proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitUnpopulated: true}.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// printHuman prints msg as text for an operator.
func printHuman(w io.Writer, o options, msg proto.Message) {
	switch m := msg.(type) {
	case *controlv1.StatusResponse:
		printStatus(w, o.addr, m, time.Now())
	case *controlv1.PauseResponse:
		fmt.Fprintf(w, "paused %s: state %s\n", o.addr, stateName(m.GetState()))
	case *controlv1.ResumeResponse:
		fmt.Fprintf(w, "resumed %s: state %s\n", o.addr, stateName(m.GetState()))
	case *controlv1.ReloadResponse:
		fmt.Fprintf(w, "reloaded %s: %s\n", o.addr, orDash(m.GetSummary()))
	case *controlv1.CommandResponse:
		if out := m.GetOutput(); out != "" {
			fmt.Fprintln(w, strings.TrimRight(out, "\n"))
		}
		if len(m.GetResult()) > 0 {
			tw := newTable(w)
			for _, k := range slices.Sorted(maps.Keys(m.GetResult())) {
				fmt.Fprintf(tw, "%s:\t%s\n", k, m.GetResult()[k])
			}
			_ = tw.Flush()
		}
	case *healthpb.HealthCheckResponse:
		fmt.Fprintln(w, m.GetStatus().String())
	case *metricsv1.QueryResponse:
		printQuery(w, m)
	case *metricsv1.ListMetricsResponse:
		printMetricList(w, m)
	}
}

// newTable returns the tab writer every table uses.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// printStatus prints a StatusResponse in sections.
func printStatus(w io.Writer, addr string, s *controlv1.StatusResponse, now time.Time) {
	tw := newTable(w)
	fmt.Fprintf(tw, "service:\t%s\n", orDash(s.GetService()))
	fmt.Fprintf(tw, "address:\t%s\n", addr)
	fmt.Fprintf(tw, "version:\t%s\n", orDash(s.GetVersion()))
	fmt.Fprintf(tw, "state:\t%s\n", stateName(s.GetState()))
	if s.GetStartedAt() != nil {
		started := s.GetStartedAt().AsTime()
		fmt.Fprintf(tw, "started:\t%s (up %s)\n", started.UTC().Format(time.RFC3339), now.Sub(started).Round(time.Second))
	}
	if s.GetLastError() == "" {
		fmt.Fprintf(tw, "last error:\tnone\n")
	} else {
		at := ""
		if s.GetLastErrorAt() != nil {
			t := s.GetLastErrorAt().AsTime()
			at = fmt.Sprintf(" (at %s, %s ago)", t.UTC().Format(time.RFC3339), now.Sub(t).Round(time.Second))
		}
		fmt.Fprintf(tw, "last error:\t%s%s\n", oneLine(s.GetLastError()), at)
	}
	_ = tw.Flush()

	if len(s.GetLag()) > 0 {
		fmt.Fprintf(w, "\nlag (total %d):\n", totalLag(s))
		tw = newTable(w)
		fmt.Fprintln(tw, "  GROUP\tTOPIC\tPARTITION\tRECORDS")
		for _, l := range s.GetLag() {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\n", l.GetGroup(), l.GetTopic(), l.GetPartition(), l.GetRecords())
		}
		_ = tw.Flush()
	}
	if len(s.GetRates()) > 0 {
		fmt.Fprintln(w, "\nrates:")
		tw = newTable(w)
		fmt.Fprintln(tw, "  NAME\tPER SECOND\tTOTAL")
		for _, r := range s.GetRates() {
			fmt.Fprintf(tw, "  %s\t%.2f\t%d\n", r.GetName(), r.GetPerSecond(), r.GetTotal())
		}
		_ = tw.Flush()
	}
	if len(s.GetFreshness()) > 0 {
		fmt.Fprintln(w, "\nfreshness:")
		rows := make([]serviceFreshness, 0, len(s.GetFreshness()))
		for _, f := range s.GetFreshness() {
			rows = append(rows, serviceFreshness{service: s.GetService(), f: f})
		}
		printFreshness(w, rows, false)
	}
	if len(s.GetDetails()) > 0 {
		fmt.Fprintln(w, "\ndetails:")
		tw = newTable(w)
		for _, k := range slices.Sorted(maps.Keys(s.GetDetails())) {
			fmt.Fprintf(tw, "  %s:\t%s\n", k, oneLine(s.GetDetails()[k]))
		}
		_ = tw.Flush()
	}
	if len(s.GetCommands()) > 0 {
		fmt.Fprintf(w, "\ncommands: %s\n", strings.Join(s.GetCommands(), ", "))
	}
}

// stateName shortens STATE_RUNNING to RUNNING.
func stateName(s controlv1.State) string {
	return strings.TrimPrefix(s.String(), "STATE_")
}

// totalLag sums the lag of every partition.
func totalLag(s *controlv1.StatusResponse) int64 {
	var n int64
	for _, l := range s.GetLag() {
		n += l.GetRecords()
	}
	return n
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine collapses line breaks so a value fits one table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
