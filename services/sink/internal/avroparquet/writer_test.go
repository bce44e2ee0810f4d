package avroparquet

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func TestWriterOptions(t *testing.T) {
	c := mustNew(t, evoV1)
	if _, err := c.NewWriter(&bytes.Buffer{}, WriterOptions{Compression: "lzma"}); err == nil || !strings.Contains(err.Error(), "lzma") {
		t.Errorf("unknown compression: %v", err)
	}
	if _, err := c.NewWriter(&bytes.Buffer{}, WriterOptions{RowGroupRows: -1}); err == nil {
		t.Error("negative RowGroupRows: no error")
	}

	var buf bytes.Buffer
	w, err := c.NewWriter(&buf, WriterOptions{Metadata: map[string]string{"a": "1", MetadataAvroSchema: "override"}})
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]any{"id": int64(1), "name": "n", "owner": map[string]any{"id": int32(2)}}
	var rows []parquet.Row
	for i := 0; i < 1000; i++ {
		if rows, err = c.AppendRow(rows, row); err != nil {
			t.Fatal(err)
		}
	}
	before := w.Size()
	if err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if w.Size() <= before || w.Rows() != 1000 {
		t.Errorf("after 1000 rows: Size %d (before %d), Rows %d", w.Size(), before, w.Rows())
	}
	w.SetMetadata("riacho.last_offset", "41")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.WriteRows(rows); err == nil {
		t.Error("WriteRows after Close: no error")
	}

	path := filepath.Join(t.TempDir(), "f.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	db := openDuck(t)
	_, kvs := query(t, db, "SELECT decode(key), decode(value) FROM parquet_kv_metadata(?) ORDER BY 1", path)
	diff(t, "metadata", kvs, [][]any{{"a", "1"}, {MetadataAvroSchema, "override"}, {"riacho.last_offset", "41"}})
	_, n := query(t, db, "SELECT count(*), sum(id) FROM read_parquet(?, hive_partitioning=false)", path)
	diff(t, "count", n, [][]any{{int64(1000), "1000"}})
}

func TestFastSnappyRoundTrip(t *testing.T) {
	src := bytes.Repeat([]byte("riacho raw zone "), 1000)
	enc, err := fastSnappy{}.Encode(nil, src)
	if err != nil || len(enc) >= len(src) {
		t.Fatalf("encode: %d bytes, %v", len(enc), err)
	}
	dec, err := fastSnappy{}.Decode(nil, enc)
	if err != nil || !bytes.Equal(dec, src) {
		t.Fatalf("decode: %v", err)
	}
	// parquet-go's standard Snappy codec reads it
	dec2, err := parquet.Snappy.Decode(nil, enc)
	if err != nil || !bytes.Equal(dec2, src) {
		t.Fatalf("standard decode: %v", err)
	}
}
