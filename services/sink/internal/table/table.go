package table

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	itable "github.com/apache/iceberg-go/table"

	"github.com/riacho/riacho/services/sink/internal/lake"
)

// Errors callers test with errors.Is.
var (
	// ErrAlreadyCommitted: the table already records offsets past the commit's start, so another
	// owner of the partition committed these records; the caller drops its files.
	ErrAlreadyCommitted = errors.New("offsets already committed")
	// ErrGap: the commit starts after the table's recorded next offset, so records would be missing.
	ErrGap = errors.New("offset gap")
	// ErrSchemaMismatch: a file's field ids disagree with the table's, or it has columns the
	// table lacks.
	ErrSchemaMismatch = errors.New("file schema does not match the table")
	// ErrSchemaIncompatible: the table's schema cannot be evolved to take a writer schema (a
	// field's type changes in a way Iceberg does not promote, a required field is added, a
	// struct becomes a primitive, ...). It is the schema's fault and retrying does not help; a
	// catalog or a lake that fails is never reported with it.
	ErrSchemaIncompatible = errors.New("schema incompatible with the table")
	// ErrNoSuchTable: the table does not exist.
	ErrNoSuchTable = errors.New("no such table")
	// ErrNoSnapshot: no snapshot matches (empty table, unknown id, time before the first commit).
	ErrNoSnapshot = errors.New("no such snapshot")
)

// OffsetKeyPrefix starts the snapshot summary keys that record offsets:
// "riacho.offset.<topic>.<partition>" = next offset to read.
const OffsetKeyPrefix = "riacho.offset."

// Summary keys riacho adds to each commit's snapshot.
const (
	SummaryRecords = "riacho.records" // records in the files this commit added
	SummaryTopic   = "riacho.topic"   // the topic of the commit
)

// Table is one Iceberg table of the catalog. Its methods read the catalog's current state on every
// call, so several Table values (and several processes) may serve the same table.
type Table struct {
	c     *Catalog
	ident itable.Identifier
	name  string
}

// Name returns "namespace.name".
func (t *Table) Name() string { return t.name }

// load reads the table's current metadata from the catalog.
func (t *Table) load(ctx context.Context) (*itable.Table, error) {
	tbl, err := t.c.cat.LoadTable(ctx, t.ident)
	if err != nil {
		return nil, fmt.Errorf("load table %s: %w", t.name, err)
	}
	return tbl, nil
}

// Schema returns the table's current schema. Its field ids are the ones data files must carry
// (or carry no ids at all).
func (t *Table) Schema(ctx context.Context) (*iceberg.Schema, error) {
	tbl, err := t.load(ctx)
	if err != nil {
		return nil, err
	}
	return tbl.Schema(), nil
}

// Location returns the table's metadata location.
func (t *Table) Location(ctx context.Context) (string, error) {
	tbl, err := t.load(ctx)
	if err != nil {
		return "", err
	}
	return tbl.Location(), nil
}

// evolve unions schema into the table's schema by name, under the table lock.
func (t *Table) evolve(ctx context.Context, tbl *itable.Table, schema *iceberg.Schema) error {
	if changed, err := unionChanges(tbl, schema); err != nil || !changed {
		return err
	}
	unlock, err := t.c.lock(ctx, t.name)
	if err != nil {
		return err
	}
	defer unlock()
	if tbl, err = t.load(ctx); err != nil {
		return err
	}
	if changed, err := unionChanges(tbl, schema); err != nil || !changed {
		return err
	}
	txn := tbl.NewTransaction()
	var opts []itable.UpdateSchemaOption
	if nm := tbl.NameMapping(); nm != nil {
		opts = append(opts, itable.WithNameMapping(nm))
	}
	if err := txn.UpdateSchema(true, false, opts...).UnionByNameWith(schema).Commit(); err != nil {
		// Builds the updates in memory (no I/O): a failure is the schema's.
		return fmt.Errorf("evolve schema of %s: %w: %w", t.name, ErrSchemaIncompatible, err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("evolve schema of %s: %w", t.name, err)
	}
	return nil
}

// unionChanges reports whether the union of the table's schema with schema differs from it. The
// union is computed in memory, so its failure is the schema's (ErrSchemaIncompatible).
func unionChanges(tbl *itable.Table, schema *iceberg.Schema) (bool, error) {
	next, err := tbl.NewTransaction().UpdateSchema(true, false).UnionByNameWith(schema).Apply()
	if err != nil {
		return false, fmt.Errorf("evolve schema of %s: %w: %w", strings.Join(tbl.Identifier(), "."), ErrSchemaIncompatible, err)
	}
	return !next.Equals(tbl.Schema()), nil
}

// Offsets is the next offset to read per Kafka partition of topic, as recorded in the current
// snapshot's summary (keys "riacho.offset.<topic>.<partition>"); partitions never committed are absent.
func (t *Table) Offsets(ctx context.Context, topic string) (map[int32]int64, error) {
	tbl, err := t.load(ctx)
	if err != nil {
		return nil, err
	}
	return offsetsOf(tbl.CurrentSnapshot(), topic)
}

func offsetKey(topic string, p int32) string {
	return OffsetKeyPrefix + topic + "." + strconv.FormatInt(int64(p), 10)
}

func offsetsOf(s *itable.Snapshot, topic string) (map[int32]int64, error) {
	out := map[int32]int64{}
	if s == nil || s.Summary == nil {
		return out, nil
	}
	prefix := OffsetKeyPrefix + topic + "."
	for k, v := range s.Summary.Properties {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || strings.Contains(rest, ".") {
			continue
		}
		p, err1 := strconv.ParseInt(rest, 10, 32)
		off, err2 := strconv.ParseInt(v, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("snapshot %d summary %s=%s: %w", s.SnapshotID, k, v, err)
		}
		out[int32(p)] = off
	}
	return out, nil
}

// carriedOffsets returns every offset key of the snapshot's summary, for the next snapshot.
func carriedOffsets(s *itable.Snapshot) iceberg.Properties {
	out := iceberg.Properties{}
	if s == nil || s.Summary == nil {
		return out
	}
	for k, v := range s.Summary.Properties {
		if strings.HasPrefix(k, OffsetKeyPrefix) {
			out[k] = v
		}
	}
	return out
}

// SnapshotInfo describes one snapshot.
type SnapshotInfo struct {
	ID        int64
	ParentID  int64 // 0 = none
	Timestamp time.Time
	Operation string            // "append", "replace", ...
	Summary   map[string]string // Iceberg's summary, offsets and riacho keys included
	Files     int64             // data files in the table as of this snapshot
	Records   int64             // records in the table as of this snapshot
}

func snapshotInfo(s *itable.Snapshot) SnapshotInfo {
	if s == nil {
		return SnapshotInfo{}
	}
	info := SnapshotInfo{ID: s.SnapshotID, Timestamp: time.UnixMilli(s.TimestampMs).UTC(), Summary: map[string]string{}}
	if s.ParentSnapshotID != nil {
		info.ParentID = *s.ParentSnapshotID
	}
	if s.Summary != nil {
		info.Operation = string(s.Summary.Operation)
		for k, v := range s.Summary.Properties {
			info.Summary[k] = v
		}
		info.Files, _ = strconv.ParseInt(s.Summary.Properties["total-data-files"], 10, 64)
		info.Records, _ = strconv.ParseInt(s.Summary.Properties["total-records"], 10, 64)
	}
	return info
}

// Snapshots lists the table's snapshots, oldest first.
func (t *Table) Snapshots(ctx context.Context) ([]SnapshotInfo, error) {
	tbl, err := t.load(ctx)
	if err != nil {
		return nil, err
	}
	snaps := tbl.Metadata().Snapshots()
	out := make([]SnapshotInfo, 0, len(snaps))
	for i := range snaps {
		out = append(out, snapshotInfo(&snaps[i]))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Timestamp.Equal(out[j].Timestamp) {
			return out[i].Timestamp.Before(out[j].Timestamp)
		}
		return snaps[i].SequenceNumber < snaps[j].SequenceNumber
	})
	return out, nil
}

// SnapshotAsOf returns the snapshot that was current at ts (the last one committed at or before
// it), or ErrNoSnapshot when ts is before the first retained commit.
func (t *Table) SnapshotAsOf(ctx context.Context, ts time.Time) (SnapshotInfo, error) {
	tbl, err := t.load(ctx)
	if err != nil {
		return SnapshotInfo{}, err
	}
	s := tbl.SnapshotAsOf(ts.UnixMilli(), true)
	if s == nil {
		return SnapshotInfo{}, fmt.Errorf("table %s as of %s: %w", t.name, ts.UTC().Format(time.RFC3339Nano), ErrNoSnapshot)
	}
	return snapshotInfo(s), nil
}

// dataFile is one live data file of a snapshot.
type dataFile struct {
	df   iceberg.DataFile
	key  string // key in the lake ("" when outside it)
	info lake.PathInfo
	ok   bool // info parsed
}

// dataFiles lists the live data files of snapshot s (nil = none), parsing their paths with layout.
func (t *Table) dataFiles(ctx context.Context, tbl *itable.Table, s *itable.Snapshot, layout lake.Layout) ([]dataFile, error) {
	if s == nil {
		return nil, nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return nil, fmt.Errorf("table %s file IO: %w", t.name, err)
	}
	manifests, err := s.Manifests(fs)
	if err != nil {
		return nil, fmt.Errorf("table %s snapshot %d manifests: %w", t.name, s.SnapshotID, err)
	}
	var out []dataFile
	for _, m := range manifests {
		if m.ManifestContent() != iceberg.ManifestContentData {
			continue
		}
		for e, err := range m.Entries(fs, true) {
			if err != nil {
				return nil, fmt.Errorf("table %s manifest %s: %w", t.name, m.FilePath(), err)
			}
			df := e.DataFile()
			f := dataFile{df: df}
			if key, ok := t.c.store.KeyOf(df.FilePath()); ok {
				f.key = key
				f.info, f.ok = layout.Parse(key)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// layoutOf returns the layout recorded on the table (the default one before the first commit).
func layoutOf(tbl *itable.Table) (lake.Layout, error) {
	l, err := lake.NewLayout(tbl.Properties()[propLayout])
	if err != nil {
		return lake.Layout{}, fmt.Errorf("table %s property %s: %w", strings.Join(tbl.Identifier(), "."), propLayout, err)
	}
	return l, nil
}

// PartitionInfo is one day of a table.
type PartitionInfo struct {
	Day     time.Time // UTC midnight; zero for files whose path does not follow the layout
	Files   int64
	Records int64
	Bytes   int64
}

// Description summarises a table.
type Description struct {
	Name, Location  string
	Schema          string
	Partitions      []PartitionInfo // by day, oldest first
	Files, Records  int64
	Bytes           int64
	CurrentSnapshot int64 // 0 = no snapshot yet
	Properties      map[string]string
}

// Describe summarises the table as of its current snapshot.
func (t *Table) Describe(ctx context.Context) (Description, error) {
	tbl, err := t.load(ctx)
	if err != nil {
		return Description{}, err
	}
	layout, err := layoutOf(tbl)
	if err != nil {
		return Description{}, err
	}
	d := Description{Name: t.name, Location: tbl.Location(), Schema: tbl.Schema().String(), Properties: map[string]string{}}
	for k, v := range tbl.Properties() {
		d.Properties[k] = v
	}
	cur := tbl.CurrentSnapshot()
	if cur != nil {
		d.CurrentSnapshot = cur.SnapshotID
	}
	files, err := t.dataFiles(ctx, tbl, cur, layout)
	if err != nil {
		return Description{}, err
	}
	days := map[time.Time]*PartitionInfo{}
	for _, f := range files {
		day := time.Time{}
		if f.ok {
			day = f.info.Day
		}
		p := days[day]
		if p == nil {
			p = &PartitionInfo{Day: day}
			days[day] = p
		}
		p.Files++
		p.Records += f.df.Count()
		p.Bytes += f.df.FileSizeBytes()
		d.Files++
		d.Records += f.df.Count()
		d.Bytes += f.df.FileSizeBytes()
	}
	for _, p := range days {
		d.Partitions = append(d.Partitions, *p)
	}
	sort.Slice(d.Partitions, func(i, j int) bool { return d.Partitions[i].Day.Before(d.Partitions[j].Day) })
	return d, nil
}

// Expire removes the snapshots older than olderThan, always keeping the current one, and deletes
// the files (data files, manifests, manifest lists) no remaining snapshot references.
func (t *Table) Expire(ctx context.Context, olderThan time.Time) (removed int, err error) {
	unlock, err := t.c.lock(ctx, t.name)
	if err != nil {
		return 0, err
	}
	defer unlock()
	tbl, err := t.load(ctx)
	if err != nil {
		return 0, err
	}
	before := len(tbl.Metadata().Snapshots())
	if before <= 1 {
		return 0, nil
	}
	age := max(time.Since(olderThan), 0)
	txn := tbl.NewTransaction()
	if err := txn.ExpireSnapshots(itable.WithOlderThan(age), itable.WithRetainLast(1)); err != nil {
		return 0, fmt.Errorf("expire snapshots of %s: %w", t.name, err)
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		return 0, fmt.Errorf("expire snapshots of %s: %w", t.name, err)
	}
	return before - len(next.Metadata().Snapshots()), nil
}
