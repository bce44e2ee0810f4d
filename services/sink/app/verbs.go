package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// Verb names accepted by Control Command.
const (
	VerbTables    = "tables"
	VerbSnapshots = "snapshots"
	VerbDescribe  = "describe"
	VerbCompact   = "compact"
	VerbExpire    = "expire"
	VerbRead      = "read"
	// VerbFlush commits the open files now ([table=<namespace.name>]),
	// instead of at the next rotation.
	VerbFlush = "flush"
)

// DefaultCompactTarget is compact's target file size without target_bytes.
const DefaultCompactTarget = 128 << 20

func (s *Service) commands() map[string]control.CommandFunc {
	return map[string]control.CommandFunc{
		VerbTables:    s.tablesVerb,
		VerbSnapshots: s.snapshotsVerb,
		VerbDescribe:  s.describeVerb,
		VerbCompact:   s.compactVerb,
		VerbExpire:    s.expireVerb,
		VerbRead:      s.readVerb,
		VerbFlush:     s.flushVerb,
	}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", control.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// lookup loads the table named by args["table"] ("namespace.name", e.g. raw_ploomes.leads).
func (s *Service) lookup(ctx context.Context, verb string, args map[string]string) (*table.Table, string, error) {
	name := strings.TrimSpace(args["table"])
	ns, entity, ok := strings.Cut(name, ".")
	if !ok || ns == "" || entity == "" {
		return nil, "", invalid("%s needs table=<namespace.name>, e.g. table=raw_ploomes.leads (see the verb tables)", verb)
	}
	t, err := s.catalog.Table(ctx, ns, entity, nil)
	if errors.Is(err, table.ErrNoSuchTable) {
		return nil, "", fmt.Errorf("%w: table %s", control.ErrNotFound, name)
	}
	if err != nil {
		return nil, "", err
	}
	return t, name, nil
}

func (s *Service) flushVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	name := strings.TrimSpace(args["table"])
	results, err := s.eng.Flush(ctx, name)
	if err != nil {
		return nil, err
	}
	if name != "" && len(results) == 0 {
		return nil, fmt.Errorf("%w: no partition of table %s is assigned to this sink (see the verb tables and Status lag)", control.ErrNotFound, name)
	}
	var (
		b              strings.Builder
		records        int64
		failed, tables = 0, map[string]bool{}
	)
	for _, r := range results {
		state := "committed"
		switch {
		case r.Err != nil:
			state, failed = r.Err.Error(), failed+1
		case r.Records == 0:
			state = "nothing open"
		}
		fmt.Fprintf(&b, "%s[%d] -> %s: %d records, %s\n", r.Topic, r.Partition, r.Table, r.Records, state)
		records += r.Records
		tables[r.Table] = true
	}
	if len(results) == 0 {
		b.WriteString("no partitions assigned\n")
	}
	res := map[string]string{"partitions": strconv.Itoa(len(results)), "tables": strconv.Itoa(len(tables)),
		"records": strconv.FormatInt(records, 10), "failed": strconv.Itoa(failed)}
	if failed > 0 {
		return nil, fmt.Errorf("flush: %d of %d partitions could not commit (they are read again, nothing is lost):\n%s", failed, len(results), b.String())
	}
	return &controlv1.CommandResponse{Output: b.String(), Result: res}, nil
}

func (s *Service) tablesVerb(ctx context.Context, _ map[string]string) (*controlv1.CommandResponse, error) {
	names, err := s.catalog.Tables(ctx)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := strings.Join(names, "\n")
	if out == "" {
		out = "no tables yet"
	}
	return &controlv1.CommandResponse{Output: out, Result: map[string]string{"count": strconv.Itoa(len(names))}}, nil
}

func (s *Service) snapshotsVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	t, name, err := s.lookup(ctx, VerbSnapshots, args)
	if err != nil {
		return nil, err
	}
	snaps, err := t.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-20s %-25s %-8s %6s %10s  %s\n", "snapshot", "parent", "committed", "op", "files", "records", "offsets")
	for _, sn := range snaps {
		fmt.Fprintf(&b, "%-20d %-20d %-25s %-8s %6d %10d  %s\n", sn.ID, sn.ParentID, sn.Timestamp.UTC().Format(time.RFC3339Nano),
			sn.Operation, sn.Files, sn.Records, offsetsOf(sn.Summary))
	}
	res := map[string]string{"table": name, "count": strconv.Itoa(len(snaps))}
	if len(snaps) > 0 {
		res["current"] = strconv.FormatInt(snaps[len(snaps)-1].ID, 10)
	}
	return &controlv1.CommandResponse{Output: b.String(), Result: res}, nil
}

// offsetsOf lists the Kafka offsets a snapshot summary records, sorted.
func offsetsOf(summary map[string]string) string {
	var out []string
	for k, v := range summary {
		if rest, ok := strings.CutPrefix(k, "riacho.offset."); ok {
			out = append(out, rest+"="+v)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func (s *Service) describeVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	t, name, err := s.lookup(ctx, VerbDescribe, args)
	if err != nil {
		return nil, err
	}
	d, err := t.Describe(ctx)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "table     %s\nlocation  %s\nsnapshot  %d\nfiles     %d\nrecords   %d\nbytes     %d\n\nschema\n%s\n\npartitions\n",
		d.Name, d.Location, d.CurrentSnapshot, d.Files, d.Records, d.Bytes, d.Schema)
	for _, p := range d.Partitions {
		fmt.Fprintf(&b, "  %+v\n", p)
	}
	return &controlv1.CommandResponse{Output: b.String(), Result: map[string]string{
		"table": name, "files": strconv.FormatInt(d.Files, 10), "records": strconv.FormatInt(d.Records, 10),
		"bytes": strconv.FormatInt(d.Bytes, 10), "snapshot": strconv.FormatInt(d.CurrentSnapshot, 10),
	}}, nil
}

func (s *Service) compactVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	t, name, err := s.lookup(ctx, VerbCompact, args)
	if err != nil {
		return nil, err
	}
	day, err := time.Parse("2006-01-02", strings.TrimSpace(args["day"]))
	if err != nil {
		return nil, invalid("compact needs day=YYYY-MM-DD: %v", err)
	}
	target := int64(DefaultCompactTarget)
	if v := strings.TrimSpace(args["target_bytes"]); v != "" {
		if target, err = ParseByteSize(v); err != nil || target <= 0 {
			return nil, invalid("target_bytes %q is not a positive size", v)
		}
	}
	info, err := t.Compact(ctx, day, target)
	if err != nil {
		return nil, err
	}
	return &controlv1.CommandResponse{
		Output: fmt.Sprintf("compacted %s day %s: snapshot %d (%s), %d files, %d records; older snapshots stay readable until expired",
			name, day.Format("2006-01-02"), info.ID, info.Operation, info.Files, info.Records),
		Result: map[string]string{"table": name, "snapshot": strconv.FormatInt(info.ID, 10), "files": strconv.FormatInt(info.Files, 10)},
	}, nil
}

func (s *Service) expireVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	t, name, err := s.lookup(ctx, VerbExpire, args)
	if err != nil {
		return nil, err
	}
	older, err := time.ParseDuration(strings.TrimSpace(args["older_than"]))
	if err != nil || older < 0 {
		return nil, invalid("expire needs older_than=<duration>, e.g. older_than=72h")
	}
	removed, err := t.Expire(ctx, time.Now().Add(-older))
	if err != nil {
		return nil, err
	}
	return &controlv1.CommandResponse{
		Output: fmt.Sprintf("expired %d snapshots of %s older than %s (the current one is always kept)", removed, name, older),
		Result: map[string]string{"table": name, "removed": strconv.Itoa(removed)},
	}, nil
}

// readVerb returns rows of a table as of a snapshot id or a time (time
// travel): read table=... [snapshot=<id> | as_of=<RFC 3339>] [limit=20].
func (s *Service) readVerb(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
	t, name, err := s.lookup(ctx, VerbRead, args)
	if err != nil {
		return nil, err
	}
	limit := 20
	if v := args["limit"]; v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit <= 0 {
			return nil, invalid("limit %q is not a positive number", v)
		}
	}
	var id int64
	switch {
	case args["snapshot"] != "" && args["as_of"] != "":
		return nil, invalid("read takes snapshot= or as_of=, not both")
	case args["snapshot"] != "":
		if id, err = strconv.ParseInt(args["snapshot"], 10, 64); err != nil {
			return nil, invalid("snapshot %q is not a snapshot id", args["snapshot"])
		}
	case args["as_of"] != "":
		at, err := time.Parse(time.RFC3339Nano, args["as_of"])
		if err != nil {
			return nil, invalid("as_of %q is not an RFC 3339 time", args["as_of"])
		}
		sn, err := t.SnapshotAsOf(ctx, at)
		if err != nil {
			return nil, fmt.Errorf("%w: no snapshot of %s as of %s: %w", control.ErrNotFound, name, at.Format(time.RFC3339), err)
		}
		id = sn.ID
	default:
		d, err := t.Describe(ctx)
		if err != nil {
			return nil, err
		}
		id = d.CurrentSnapshot
	}
	rows, err := t.Scan(ctx, id)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for i, r := range rows {
		if i == limit {
			fmt.Fprintf(&b, "... %d more rows\n", len(rows)-limit)
			break
		}
		line, err := json.Marshal(r)
		if err != nil {
			line = []byte(fmt.Sprint(r))
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return &controlv1.CommandResponse{Output: b.String(), Result: map[string]string{
		"table": name, "snapshot": strconv.FormatInt(id, 10), "rows": strconv.Itoa(len(rows)),
	}}, nil
}
