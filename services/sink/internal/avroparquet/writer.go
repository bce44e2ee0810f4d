package avroparquet

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// DefaultRowGroupRows is the row group size when WriterOptions.RowGroupRows is 0.
const DefaultRowGroupRows = 128 * 1024

// MetadataAvroSchema is the key/value metadata key under which NewWriter stores
// the Avro writer schema (unless WriterOptions.Metadata sets it).
const MetadataAvroSchema = "avro.schema"

// WriterOptions tunes NewWriter. The zero value writes Snappy with row groups of
// DefaultRowGroupRows rows.
type WriterOptions struct {
	Compression  string            // snappy (default) | snappy-better | zstd | gzip | lz4 | none
	RowGroupRows int64             // rows per row group; 0 = DefaultRowGroupRows
	Metadata     map[string]string // key/value metadata in the file footer
}

// Writer writes one Parquet file of a Converter's schema. It is not safe for
// concurrent use.
type Writer struct {
	pw     *parquet.GenericWriter[any]
	rows   int64
	closed bool
}

// Codec returns the Parquet compression codec named name ("" = snappy).
func Codec(name string) (compress.Codec, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return fastSnappy{}, nil
	case "snappy-better":
		return &parquet.Snappy, nil
	case "zstd":
		return &parquet.Zstd, nil
	case "gzip":
		return &parquet.Gzip, nil
	case "lz4", "lz4_raw":
		return &parquet.Lz4Raw, nil
	case "none", "uncompressed":
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("avroparquet: unknown compression %q (snappy, snappy-better, zstd, gzip, lz4, none)", name)
}

// NewWriter writes a Parquet file of c's schema to w: Snappy by default, row
// groups of opts.RowGroupRows rows, opts.Metadata as key/value metadata (plus
// the Avro schema under MetadataAvroSchema). Close writes the footer; it does
// not close w.
func (c *Converter) NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	codec, err := Codec(opts.Compression)
	if err != nil {
		return nil, err
	}
	rg := opts.RowGroupRows
	if rg < 0 {
		return nil, fmt.Errorf("avroparquet: negative RowGroupRows %d", rg)
	}
	if rg == 0 {
		rg = DefaultRowGroupRows
	}
	wopts := []parquet.WriterOption{
		c.schema,
		parquet.Compression(codec),
		parquet.MaxRowsPerRowGroup(rg),
	}
	if _, ok := opts.Metadata[MetadataAvroSchema]; !ok {
		wopts = append(wopts, parquet.KeyValueMetadata(MetadataAvroSchema, c.avro))
	}
	keys := make([]string, 0, len(opts.Metadata))
	for k := range opts.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		wopts = append(wopts, parquet.KeyValueMetadata(k, opts.Metadata[k]))
	}
	return &Writer{pw: parquet.NewGenericWriter[any](w, wopts...)}, nil
}

// WriteRows writes rows (made by AppendRow of the same Converter). The values
// are copied: rows and the natives they refer to may be reused afterwards.
func (w *Writer) WriteRows(rows []parquet.Row) error {
	if w.closed {
		return errors.New("avroparquet: write on a closed writer")
	}
	for len(rows) > 0 {
		n, err := w.pw.WriteRows(rows)
		w.rows += int64(n)
		if err != nil {
			return fmt.Errorf("avroparquet: write rows: %w", err)
		}
		if n == 0 {
			return errors.New("avroparquet: write rows: no progress")
		}
		rows = rows[n:]
	}
	return nil
}

// Rows returns the number of rows written so far.
func (w *Writer) Rows() int64 { return w.rows }

// Size estimates the file size so far in bytes: what was flushed plus the
// uncompressed size of the buffered row group (an upper bound; no footer).
func (w *Writer) Size() int64 { return w.pw.Size() }

// SetMetadata sets a key/value metadata pair of the footer (e.g. the last
// offset, known only at the end). Call it before Close.
func (w *Writer) SetMetadata(key, value string) { w.pw.SetKeyValueMetadata(key, value) }

// Flush ends the current row group.
func (w *Writer) Flush() error {
	if err := w.pw.Flush(); err != nil {
		return fmt.Errorf("avroparquet: flush: %w", err)
	}
	return nil
}

// Close flushes the buffered rows and writes the footer. It does not close the
// underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.pw.Close(); err != nil {
		return fmt.Errorf("avroparquet: close: %w", err)
	}
	return nil
}
