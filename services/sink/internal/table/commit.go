package table

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	itable "github.com/apache/iceberg-go/table"

	"github.com/riacho/riacho/services/sink/internal/lake"
)

// StagedFile is a Parquet file written to the lake under a staging key, waiting for its commit.
type StagedFile struct {
	Key     string    // the staged object's key (lake.StagingKey)
	Day     time.Time // the day partition its records belong to (UTC)
	Records int64     // rows in the file (checked against the footer when > 0)
}

// CommitRequest names the staged files of one topic's partitions and the offsets they cover.
type CommitRequest struct {
	Topic                string
	Zone, Source, Entity string
	Layout               lake.Layout // the zero Layout is the default template
	Files                []StagedFile
	Start, Next          map[int32]int64 // per partition: first offset covered, next offset to read
}

// seqState caches the highest sequence number per (zone, source, entity, day) of one table as of
// one snapshot, so consecutive commits of one process do not reread every manifest.
type seqState struct {
	snapshotID int64
	max        map[string]int
}

func seqKey(zone, source, entity string, day time.Time) string {
	return zone + "/" + source + "/" + entity + "/" + day.UTC().Format("20060102")
}

// Commit atomically moves the staged files to their final layout paths and appends them as one
// snapshot whose summary records Next[p] for each partition (and carries every other partition's
// offsets forward). It runs under the table's lock. It first checks the recorded offsets: for each
// partition p of the commit the recorded next offset must equal Start[p] or be absent; if it is
// greater the files were already committed by another owner → ErrAlreadyCommitted (the staged files
// are deleted); if smaller → ErrGap. Sequence numbers are 1 + the highest of that (entity, day) among
// the table's current data files; a final-path object left by a crashed commit is overwritten. Staged
// files are deleted after the commit. A request without files still records its offsets (an empty
// snapshot), for batches whose records all went to the dead-letter queue.
func (t *Table) Commit(ctx context.Context, req CommitRequest) (SnapshotInfo, error) {
	if err := t.checkRequest(req); err != nil {
		return SnapshotInfo{}, err
	}
	unlock, err := t.c.lock(ctx, t.name)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer unlock()

	tbl, err := t.load(ctx)
	if err != nil {
		return SnapshotInfo{}, err
	}
	cur := tbl.CurrentSnapshot()
	recorded, err := offsetsOf(cur, req.Topic)
	if err != nil {
		return SnapshotInfo{}, err
	}
	if err := checkOffsets(req, recorded); err != nil {
		if errors.Is(err, ErrAlreadyCommitted) {
			t.deleteStaged(ctx, req.Files)
		}
		return SnapshotInfo{}, fmt.Errorf("commit to %s: %w", t.name, err)
	}

	schema := tbl.Schema()
	var records int64
	for _, f := range req.Files {
		rows, err := checkFile(ctx, t.c.store, f.Key, schema)
		if err != nil {
			return SnapshotInfo{}, fmt.Errorf("commit to %s: %w", t.name, err)
		}
		if f.Records > 0 && rows != f.Records {
			return SnapshotInfo{}, fmt.Errorf("commit to %s: staged file %s has %d rows, the request says %d", t.name, f.Key, rows, f.Records)
		}
		records += rows
	}

	// Allocate sequence numbers: deterministic order (day, staged key).
	files := slices.Clone(req.Files)
	sort.Slice(files, func(i, j int) bool {
		if !files[i].Day.Equal(files[j].Day) {
			return files[i].Day.Before(files[j].Day)
		}
		return files[i].Key < files[j].Key
	})
	maxSeq, err := t.maxSeqs(ctx, tbl, cur, req.Layout)
	if err != nil {
		return SnapshotInfo{}, err
	}
	before := map[string]int{}
	finals := make([]string, len(files))
	for i, f := range files {
		k := seqKey(req.Zone, req.Source, req.Entity, f.Day)
		if _, ok := before[k]; !ok {
			before[k] = maxSeq[k]
		}
		maxSeq[k]++
		finals[i] = req.Layout.Path(req.Zone, req.Source, req.Entity, f.Day, maxSeq[k])
	}
	if err := t.removeOrphans(ctx, req, files, before, finals); err != nil {
		return SnapshotInfo{}, err
	}
	for i, f := range files {
		if err := t.c.store.Copy(ctx, finals[i], f.Key); err != nil {
			return SnapshotInfo{}, fmt.Errorf("commit to %s: %w", t.name, err)
		}
	}

	props := carriedOffsets(cur)
	for p, next := range req.Next {
		props[offsetKey(req.Topic, p)] = strconv.FormatInt(next, 10)
	}
	props[SummaryRecords] = strconv.FormatInt(records, 10)
	props[SummaryTopic] = req.Topic

	txn := tbl.NewTransaction()
	want := iceberg.Properties{propLayout: req.Layout.Template(), propZone: req.Zone, propSource: req.Source, propEntity: req.Entity}
	for k, v := range want {
		if tbl.Properties()[k] == v {
			delete(want, k)
		}
	}
	if len(want) > 0 {
		if err := txn.SetProperties(want); err != nil {
			return SnapshotInfo{}, fmt.Errorf("commit to %s: %w", t.name, err)
		}
	}
	urls := make([]string, len(finals))
	for i, k := range finals {
		urls[i] = t.c.store.ObjectURL(k)
	}
	// The paths are new by construction (sequence numbers above the table's highest), so the
	// duplicate check, which reads every manifest, is skipped.
	if err := txn.AddFiles(ctx, urls, props, true); err != nil {
		return SnapshotInfo{}, fmt.Errorf("commit to %s: add files: %w", t.name, err)
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("commit to %s: %w", t.name, err)
	}
	snap := next.CurrentSnapshot()
	t.c.mu.Lock()
	t.c.seqs[t.name] = &seqState{snapshotID: snap.SnapshotID, max: maxSeq}
	t.c.mu.Unlock()
	t.deleteStaged(ctx, req.Files)
	return snapshotInfo(snap), nil
}

func (t *Table) checkRequest(req CommitRequest) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("commit to %s: %s", t.name, fmt.Sprintf(format, args...))
	}
	if req.Topic == "" {
		return bad("no topic")
	}
	for _, n := range []string{req.Zone, req.Source, req.Entity} {
		if n == "" || strings.ContainsAny(n, "/\\") {
			return bad("invalid zone/source/entity %q", n)
		}
	}
	if len(req.Start) == 0 || len(req.Start) != len(req.Next) {
		return bad("Start and Next must name the same partitions")
	}
	for p, s := range req.Start {
		n, ok := req.Next[p]
		if !ok || n < s || s < 0 {
			return bad("partition %d: start %d, next %d", p, s, req.Next[p])
		}
	}
	seen := map[string]bool{}
	for _, f := range req.Files {
		if f.Key == "" || seen[f.Key] || f.Day.IsZero() {
			return bad("staged file %q: empty, repeated or without a day", f.Key)
		}
		seen[f.Key] = true
		if _, ok := req.Layout.Parse(f.Key); ok {
			return bad("staged file %q is already at a layout path", f.Key)
		}
	}
	return nil
}

// checkOffsets compares the commit's start offsets with the recorded ones.
func checkOffsets(req CommitRequest, recorded map[int32]int64) error {
	parts := make([]int32, 0, len(req.Start))
	for p := range req.Start {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var already, gaps []string
	for _, p := range parts {
		rec, ok := recorded[p]
		switch {
		case !ok || rec == req.Start[p]:
		case rec > req.Start[p]:
			already = append(already, fmt.Sprintf("%s[%d] start %d < recorded %d", req.Topic, p, req.Start[p], rec))
		default:
			gaps = append(gaps, fmt.Sprintf("%s[%d] start %d > recorded %d", req.Topic, p, req.Start[p], rec))
		}
	}
	if len(gaps) > 0 {
		return fmt.Errorf("%w: %s", ErrGap, strings.Join(gaps, ", "))
	}
	if len(already) > 0 {
		return fmt.Errorf("%w: %s", ErrAlreadyCommitted, strings.Join(already, ", "))
	}
	return nil
}

// maxSeqs returns the highest sequence number per seqKey among the current data files.
func (t *Table) maxSeqs(ctx context.Context, tbl *itable.Table, cur *itable.Snapshot, layout lake.Layout) (map[string]int, error) {
	var curID int64
	if cur != nil {
		curID = cur.SnapshotID
	}
	t.c.mu.Lock()
	st := t.c.seqs[t.name]
	t.c.mu.Unlock()
	if st != nil && st.snapshotID == curID && curID != 0 && tbl.Properties()[propLayout] == layout.Template() {
		out := make(map[string]int, len(st.max))
		for k, v := range st.max {
			out[k] = v
		}
		return out, nil
	}
	files, err := t.dataFiles(ctx, tbl, cur, layout)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, f := range files {
		if !f.ok {
			continue
		}
		k := seqKey(f.info.Zone, f.info.Source, f.info.Entity, f.info.Day)
		out[k] = max(out[k], f.info.Seq)
	}
	return out, nil
}

// removeOrphans deletes layout objects of the commit's (entity, day)s whose sequence number is above
// the table's highest and that this commit will not overwrite: leftovers of a crashed commit or
// compaction. Only the lock holder writes such objects, so none belongs to a commit in progress.
func (t *Table) removeOrphans(ctx context.Context, req CommitRequest, files []StagedFile, before map[string]int, finals []string) error {
	mine := map[string]bool{}
	for _, k := range finals {
		mine[k] = true
	}
	days := map[string]time.Time{}
	for _, f := range files {
		days[seqKey(req.Zone, req.Source, req.Entity, f.Day)] = f.Day
	}
	for k, day := range days {
		prefix := commonPrefix(req.Layout.Path(req.Zone, req.Source, req.Entity, day, 0), req.Layout.Path(req.Zone, req.Source, req.Entity, day, 1000))
		objs, err := t.c.store.List(ctx, prefix)
		if err != nil {
			return fmt.Errorf("commit to %s: %w", t.name, err)
		}
		for _, o := range objs {
			info, ok := req.Layout.Parse(o.Key)
			if !ok || mine[o.Key] || seqKey(info.Zone, info.Source, info.Entity, info.Day) != k || info.Seq <= before[k] {
				continue
			}
			if err := t.c.store.Delete(ctx, o.Key); err != nil {
				return fmt.Errorf("commit to %s: remove leftover %s: %w", t.name, o.Key, err)
			}
			t.c.log.Warn("removed a data file no commit references", "table", t.name, "key", o.Key)
		}
	}
	return nil
}

func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

func (t *Table) deleteStaged(ctx context.Context, files []StagedFile) {
	for _, f := range files {
		if err := t.c.store.Delete(ctx, f.Key); err != nil {
			t.c.log.Warn("could not delete a staged file", "table", t.name, "key", f.Key, "err", err)
		}
	}
}
