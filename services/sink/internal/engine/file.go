package engine

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/riacho/riacho/services/sink/internal/avroparquet"
	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// rowBatch is how many converted rows a file buffers before handing them to
// the Parquet writer.
const rowBatch = 256

// stagedFile is one open Parquet file of a partition's range: the records of
// one UTC day, written to a staging key, moved to the layout by the commit.
type stagedFile struct {
	day     time.Time
	first   int64
	last    int64
	key     string
	cancel  context.CancelFunc
	obj     io.WriteCloser
	cw      countWriter
	pw      *avroparquet.Writer
	rows    []parquet.Row
	records int64
	closed  bool
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// openFile starts the staged file of day whose first record is at offset first.
func (p *partition) openFile(day time.Time, first int64) (*stagedFile, error) {
	e := p.e
	key := e.stagingKey(p.topic, p.part, first, day)
	ctx, cancel := context.WithCancel(p.ctx)
	obj, err := e.store.NewWriter(ctx, key)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("stage %s: %w", key, err)
	}
	f := &stagedFile{day: day, first: first, key: key, cancel: cancel, obj: obj}
	f.cw.w = obj
	f.pw, err = p.conv.NewWriter(&f.cw, avroparquet.WriterOptions{
		Compression:  e.cfg.Compression,
		RowGroupRows: e.cfg.RowGroupRows,
		Metadata: map[string]string{
			"riacho.topic":        p.topic,
			"riacho.partition":    strconv.Itoa(int(p.part)),
			"riacho.first_offset": strconv.FormatInt(first, 10),
			"riacho.schema_id":    strconv.FormatUint(uint64(p.schema.id), 10),
			"avro.schema":         p.schema.text,
		},
	})
	if err != nil {
		f.abort(e)
		return nil, fmt.Errorf("parquet writer for %s: %w", key, err)
	}
	return f, nil
}

func (f *stagedFile) flushRows() error {
	if len(f.rows) == 0 {
		return nil
	}
	if err := f.pw.WriteRows(f.rows); err != nil {
		return fmt.Errorf("write parquet rows to %s: %w", f.key, err)
	}
	f.rows = f.rows[:0] // the writer copied the values: the converter may reuse the rows
	return nil
}

// close finishes the file; it is durable at its staging key afterwards.
func (f *stagedFile) close() error {
	if f.closed {
		return nil
	}
	if err := f.flushRows(); err != nil {
		return err
	}
	f.pw.SetMetadata("riacho.last_offset", strconv.FormatInt(f.last, 10))
	if err := f.pw.Close(); err != nil {
		return fmt.Errorf("close parquet %s: %w", f.key, err)
	}
	if err := f.obj.Close(); err != nil {
		return fmt.Errorf("close staged object %s: %w", f.key, err)
	}
	f.closed = true
	f.cancel()
	return nil
}

// staged describes the closed file for the table commit.
func (f *stagedFile) staged() table.StagedFile {
	return table.StagedFile{Key: f.key, Day: f.day, Records: f.records}
}

// abort drops the file: an open writer is cancelled (its object never
// appears), a closed one deleted.
func (f *stagedFile) abort(e *Engine) {
	f.cancel()
	if !f.closed {
		_ = f.obj.Close() // cancelled: the object is not written
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = e.store.Delete(ctx, f.key) // absent already, or a leftover: best effort
}

// stagingKey is the staging object of a file. The staging layout names the
// first and last offsets; the last is not known while the file is open, so
// the key carries a token unique to this engine and file instead, which also
// keeps two owners of a partition (one a zombie) from ever writing the same
// staged object.
func (e *Engine) stagingKey(topic string, part int32, first int64, day time.Time) string {
	return lake.StagingKey(topic, part, first, e.fileToken(), day)
}
