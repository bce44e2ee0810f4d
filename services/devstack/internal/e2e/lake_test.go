package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// lakeFiles lists the Parquet files under <lake>/raw/<source>, relative to
// the lake.
func (h *harness) lakeFiles(source string) ([]string, error) {
	lake := h.opts.LakeDir()
	var out []string
	err := filepath.WalkDir(filepath.Join(lake, "raw", source), func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // the directory appears with the first commit
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			rel, _ := filepath.Rel(lake, path)
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// parquetColumn returns every value of the top-level column name in the
// Parquet file at path (relative to the lake), read with parquet-go.
func (h *harness) parquetColumn(rel, name string) ([]string, error) {
	f, err := os.Open(filepath.Join(h.opts.LakeDir(), rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open parquet %s: %w", rel, err)
	}
	col, ok := pf.Schema().Lookup(name)
	if !ok {
		return nil, fmt.Errorf("parquet %s has no column %q (columns %v)", rel, name, pf.Schema().Columns())
	}
	var out []string
	for _, rg := range pf.RowGroups() {
		vals, err := chunkValues(rg.ColumnChunks()[col.ColumnIndex])
		if err != nil {
			return nil, fmt.Errorf("read parquet %s column %s: %w", rel, name, err)
		}
		out = append(out, vals...)
	}
	return out, nil
}

// chunkValues reads every value of a column chunk as text.
func chunkValues(chunk parquet.ColumnChunk) ([]string, error) {
	pages := chunk.Pages()
	defer pages.Close()
	var out []string
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		vals := make([]parquet.Value, p.NumValues())
		n, err := p.Values().ReadValues(vals)
		if err != nil && !errors.Is(err, io.EOF) {
			parquet.Release(p)
			return out, err
		}
		for _, v := range vals[:n] {
			if !v.IsNull() {
				out = append(out, string(v.ByteArray()))
			}
		}
		parquet.Release(p)
	}
}

// lakeFind returns the Parquet files of source holding a row whose
// event_id is id.
func (h *harness) lakeFind(source, id string) ([]string, error) {
	files, err := h.lakeFiles(source)
	if err != nil {
		return nil, err
	}
	var hits []string
	for _, f := range files {
		ids, err := h.parquetColumn(f, "event_id")
		if err != nil {
			return nil, err
		}
		for _, v := range ids {
			if v == id {
				hits = append(hits, f)
				break
			}
		}
	}
	return hits, nil
}

// lakeRows counts the rows of source's Parquet files whose name starts
// with entity.
func (h *harness) lakeRows(source, entity string) (int, error) {
	files, err := h.lakeFiles(source)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), entity+"_") {
			continue
		}
		ids, err := h.parquetColumn(f, "event_id")
		if err != nil {
			return 0, err
		}
		n += len(ids)
	}
	return n, nil
}

// control runs a Control Command verb on the service at addr as the operator.
func (h *harness) control(ctx context.Context, addr, verb string, args map[string]string) (*controlv1.CommandResponse, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+h.controlToken())
	resp, err := controlv1.NewControlClient(conn).Command(ctx, &controlv1.CommandRequest{Name: verb, Args: args})
	if err != nil {
		return nil, fmt.Errorf("control %s %s %v: %w", addr, verb, args, err)
	}
	return resp, nil
}

// icebergRows reads table (namespace.name) through the sink's read verb,
// an Iceberg scan of its current snapshot; it returns the JSON lines and
// the row count the scan reported.
func (h *harness) icebergRows(ctx context.Context, table string, limit int) (string, int, error) {
	resp, err := h.control(ctx, h.opts.SinkCtl, "read", map[string]string{"table": table, "limit": strconv.Itoa(limit)})
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(resp.GetResult()["rows"])
	if err != nil {
		return "", 0, fmt.Errorf("read %s: rows %q: %w", table, resp.GetResult()["rows"], err)
	}
	return resp.GetOutput(), n, nil
}
