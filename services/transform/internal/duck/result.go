package duck

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// prepare prepares sql and describes its columns. When a column has no
// plain Go value (nested types, intervals, ...) the statement is prepared
// again around sql, with those columns turned into text.
func prepare(ctx context.Context, conn *duckdb.Conn, sql string) (*duckdb.Stmt, []OutputColumn, error) {
	ds, err := conn.PrepareContext(ctx, sql)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrQuery, err)
	}
	stmt := ds.(*duckdb.Stmt)
	n, err := stmt.ColumnCount()
	if err != nil {
		_ = stmt.Close()
		return nil, nil, fmt.Errorf("%w: %w", ErrQuery, err)
	}
	cols := make([]OutputColumn, n)
	casts := make([]string, n)
	wrap := false
	for i := range n {
		name, err := stmt.ColumnName(i)
		if err != nil {
			_ = stmt.Close()
			return nil, nil, fmt.Errorf("%w: column %d: %w", ErrQuery, i, err)
		}
		ti, err := stmt.ColumnTypeInfo(i)
		if err != nil {
			_ = stmt.Close()
			return nil, nil, fmt.Errorf("%w: column %s: %w", ErrQuery, name, err)
		}
		cols[i] = OutputColumn{Name: name, DuckType: duckTypeName(ti)}
		if casts[i] = textCast(ti, "q."+quoteIdent(name)); casts[i] != "" {
			wrap = true
		}
	}
	if !wrap {
		return stmt, cols, nil
	}
	if err := stmt.Close(); err != nil {
		return nil, nil, fmt.Errorf("%w: close statement: %w", ErrQuery, err)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if casts[i] == "" {
			b.WriteString("q." + quoteIdent(c.Name))
			continue
		}
		b.WriteString(casts[i] + " AS " + quoteIdent(c.Name))
	}
	b.WriteString(" FROM (\n" + strings.TrimRight(strings.TrimSpace(sql), ";") + "\n) AS q")
	ds, err = conn.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: as text: %w", ErrQuery, err)
	}
	return ds.(*duckdb.Stmt), cols, nil
}

// fetch reads every row; rows share one backing array per 1024 rows.
func fetch(rows driver.Rows, ncol int) ([][]any, error) {
	const slab = 1024
	dest := make([]driver.Value, ncol)
	var out [][]any
	var buf []any
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%w: fetch row %d: %w", ErrQuery, len(out), err)
		}
		if len(buf) < ncol {
			buf = make([]any, ncol*slab)
		}
		row := buf[:ncol:ncol]
		buf = buf[ncol:]
		for i, v := range dest {
			row[i] = v
		}
		out = append(out, row)
	}
}
