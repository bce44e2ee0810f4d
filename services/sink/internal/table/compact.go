package table

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	itable "github.com/apache/iceberg-go/table"
	"github.com/parquet-go/parquet-go"
)

// SummaryCompacted is the summary key of a compaction snapshot: how many files it replaced.
const SummaryCompacted = "riacho.compacted-files"

// compactRowGroupRows bounds the row groups of compacted files (as the sink's writer does).
const compactRowGroupRows = 128 * 1024

// inMemoryLimit: input files up to this size are read whole instead of by ranged reads.
const inMemoryLimit = 64 << 20

// Compact rewrites the data files of one day into files of about targetBytes as a new snapshot
// (operation "replace") that carries the offsets forward. Only files of identical Parquet schema
// are merged (packed in sequence order); files of targetBytes or more and groups of one file are
// left alone. The new
// files get the next sequence numbers of the day. Older snapshots stay readable (time travel)
// until expired. With nothing to compact it returns the current snapshot unchanged.
func (t *Table) Compact(ctx context.Context, day time.Time, targetBytes int64) (SnapshotInfo, error) {
	if targetBytes <= 0 {
		return SnapshotInfo{}, fmt.Errorf("compact %s: target size %d", t.name, targetBytes)
	}
	day = time.Date(day.UTC().Year(), day.UTC().Month(), day.UTC().Day(), 0, 0, 0, 0, time.UTC)
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
	if cur == nil {
		return SnapshotInfo{}, fmt.Errorf("compact %s: %w", t.name, ErrNoSnapshot)
	}
	props := tbl.Properties()
	zone, source, entity := props[propZone], props[propSource], props[propEntity]
	layout, err := layoutOf(tbl)
	if err != nil {
		return SnapshotInfo{}, err
	}
	all, err := t.dataFiles(ctx, tbl, cur, layout)
	if err != nil {
		return SnapshotInfo{}, err
	}
	var files []dataFile
	for _, f := range all {
		if f.ok && f.info.Day.Equal(day) && f.info.Zone == zone && f.info.Source == source && f.info.Entity == entity {
			files = append(files, f)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].info.Seq < files[j].info.Seq })

	bins, err := t.pack(ctx, files, targetBytes)
	if err != nil {
		return SnapshotInfo{}, err
	}
	if len(bins) == 0 {
		return snapshotInfo(cur), nil
	}

	maxSeq, err := t.maxSeqs(ctx, tbl, cur, layout)
	if err != nil {
		return SnapshotInfo{}, err
	}
	k := seqKey(zone, source, entity, day)
	var written []string
	cleanup := func() {
		for _, key := range written {
			_ = t.c.store.Delete(context.WithoutCancel(ctx), key)
		}
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("compact %s: %w", t.name, err)
	}
	snapProps := carriedOffsets(cur)
	replaced := 0
	rw := tbl.NewTransaction()
	var added []iceberg.DataFile
	for _, b := range bins {
		maxSeq[k]++
		key := layout.Path(zone, source, entity, day, maxSeq[k])
		written = append(written, key)
		if err := t.merge(ctx, b, key); err != nil {
			cleanup()
			return SnapshotInfo{}, err
		}
		df, err := itable.FileToDataFile(ctx, fs, t.c.store.ObjectURL(key), tbl.Schema(), tbl.Spec(), 0, tbl.Properties())
		if err != nil {
			cleanup()
			return SnapshotInfo{}, fmt.Errorf("compact %s: %s: %w", t.name, key, err)
		}
		added = append(added, df)
		replaced += len(b.files)
	}
	snapProps[SummaryCompacted] = strconv.Itoa(replaced)
	rewrite := rw.NewRewrite(snapProps)
	for _, b := range bins {
		for _, f := range b.files {
			rewrite.DeleteFile(f.df)
		}
	}
	for _, df := range added {
		rewrite.AddDataFile(df)
	}
	if err := rewrite.Commit(ctx); err != nil {
		cleanup()
		return SnapshotInfo{}, fmt.Errorf("compact %s: %w", t.name, err)
	}
	next, err := rw.Commit(ctx)
	if err != nil {
		// The catalog may have taken the commit; leave the files for the next commit's cleanup.
		return SnapshotInfo{}, fmt.Errorf("compact %s: %w", t.name, err)
	}
	snap := next.CurrentSnapshot()
	t.c.mu.Lock()
	t.c.seqs[t.name] = &seqState{snapshotID: snap.SnapshotID, max: maxSeq}
	t.c.mu.Unlock()
	return snapshotInfo(snap), nil
}

// bin is a group of files merged into one.
type bin struct {
	files  []dataFile
	schema *parquet.Schema
	meta   map[string]string
}

// pack groups the files by Parquet schema and, within a schema, packs them in sequence order
// into bins of at most targetBytes; only bins of two or more files are returned.
func (t *Table) pack(ctx context.Context, files []dataFile, targetBytes int64) ([]bin, error) {
	type class struct {
		files  []dataFile
		schema *parquet.Schema
		meta   map[string]string
	}
	var (
		order   []string
		classes = map[string]*class{}
	)
	for _, f := range files {
		if f.df.FileSizeBytes() >= targetBytes {
			continue
		}
		pf, err := openParquet(ctx, t.c.store, f.key)
		if err != nil {
			return nil, fmt.Errorf("compact %s: %w", t.name, err)
		}
		fp := fingerprint(pf.Schema().Fields())
		c, ok := classes[fp]
		if !ok {
			c = &class{schema: pf.Schema(), meta: map[string]string{}}
			for _, kv := range pf.Metadata().KeyValueMetadata {
				c.meta[kv.Key] = kv.Value
			}
			classes[fp] = c
			order = append(order, fp)
		}
		c.files = append(c.files, f)
	}
	var out []bin
	for _, fp := range order {
		c := classes[fp]
		var (
			cur  []dataFile
			size int64
		)
		flush := func() {
			if len(cur) > 1 {
				meta := make(map[string]string, len(c.meta))
				for k, v := range c.meta {
					meta[k] = v
				}
				out = append(out, bin{files: cur, schema: c.schema, meta: meta})
			}
			cur, size = nil, 0
		}
		for _, f := range c.files {
			if len(cur) > 0 && size+f.df.FileSizeBytes() > targetBytes {
				flush()
			}
			cur = append(cur, f)
			size += f.df.FileSizeBytes()
		}
		flush()
	}
	return out, nil
}

// fingerprint describes a Parquet schema: names, field ids, types and repetition, in order.
func fingerprint(fields []parquet.Field) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "%s#%d", f.Name(), f.ID())
		switch {
		case f.Repeated():
			b.WriteString("*")
		case f.Optional():
			b.WriteString("?")
		}
		if f.Leaf() {
			b.WriteString(":" + f.Type().String())
		} else {
			b.WriteString("{" + fingerprint(f.Fields()) + "}")
		}
		b.WriteString(";")
	}
	return b.String()
}

// merge writes the rows of b's files, in order, to key.
func (t *Table) merge(ctx context.Context, b bin, key string) (err error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := t.c.store.NewWriter(wctx, key)
	if err != nil {
		return fmt.Errorf("compact %s: %w", t.name, err)
	}
	defer func() {
		if err != nil {
			cancel() // abandons the upload: no object appears
			_ = w.Close()
		}
	}()
	opts := []parquet.WriterOption{b.schema, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(compactRowGroupRows)}
	from := make([]string, len(b.files))
	for i, f := range b.files {
		from[i] = f.key
	}
	b.meta[SummaryCompacted] = strings.Join(from, ",")
	for k, v := range b.meta {
		opts = append(opts, parquet.KeyValueMetadata(k, v))
	}
	pw := parquet.NewGenericWriter[any](w, opts...)
	for _, f := range b.files {
		if err := t.copyRows(ctx, pw, f); err != nil {
			return err
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("compact %s: write %s: %w", t.name, key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("compact %s: %w", t.name, err)
	}
	return nil
}

func (t *Table) copyRows(ctx context.Context, pw *parquet.GenericWriter[any], f dataFile) error {
	var (
		ra   io.ReaderAt
		size int64
		err  error
	)
	if f.df.FileSizeBytes() <= inMemoryLimit {
		r, err := t.c.store.Open(ctx, f.key)
		if err != nil {
			return fmt.Errorf("compact %s: %w", t.name, err)
		}
		data, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil {
			return fmt.Errorf("compact %s: read %s: %w", t.name, f.key, err)
		}
		ra, size = bytes.NewReader(data), int64(len(data))
	} else if ra, size, err = t.c.store.OpenFile(ctx, f.key); err != nil {
		return fmt.Errorf("compact %s: %w", t.name, err)
	}
	pf, err := parquet.OpenFile(ra, size)
	if err != nil {
		return fmt.Errorf("compact %s: open %s: %w", t.name, f.key, err)
	}
	for _, rg := range pf.RowGroups() {
		rows := rg.Rows()
		_, err := parquet.CopyRows(pw, rows)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("compact %s: copy rows of %s: %w", t.name, f.key, err)
		}
	}
	return nil
}
