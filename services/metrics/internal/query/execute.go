package query

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// Value is one normalized cell: nil, string (text, and decimals as
// canonical decimal text with the column's scale), int64, float64 (rounded
// to 12 significant digits), bool, or time.Time (UTC).
type Value = any

// Execute runs p on st and calls emit with each row as it arrives (a fresh
// slice each time, which emit may keep); it never holds the whole answer.
// An error from emit stops the query and is returned as is.
func Execute(ctx context.Context, st *store.Store, p *Plan, emit func(row []Value) error) error {
	if st.Dialect == store.Postgres {
		// One read-only transaction per query. The server's settings apply
		// (jit among them: it pays off on large facts; on small tables whose
		// statistics are missing its planner estimates can make it cost
		// seconds — set jit per database or role, or ANALYZE).
		tx, err := st.PG.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("run metric query: %w", err)
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		rows, err := tx.Query(ctx, p.SQL, p.Args...)
		if err != nil {
			return fmt.Errorf("run metric query: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return fmt.Errorf("read metric row: %w", err)
			}
			row, err := normalizeRow(vals, p.Columns)
			if err != nil {
				return err
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("run metric query: %w", err)
		}
		rows.Close()
		return tx.Commit(ctx)
	}
	rows, err := st.Duck.QueryContext(ctx, p.SQL, p.Args...)
	if err != nil {
		return fmt.Errorf("run metric query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	vals := make([]any, len(p.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read metric row: %w", err)
		}
		row, err := normalizeRow(vals, p.Columns)
		if err != nil {
			return err
		}
		if err := emit(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("run metric query: %w", err)
	}
	return nil
}

func normalizeRow(vals []any, cols []Column) ([]Value, error) {
	if len(vals) != len(cols) {
		return nil, fmt.Errorf("metric query returned %d columns, plan has %d", len(vals), len(cols))
	}
	row := make([]Value, len(vals))
	for i, v := range vals {
		n, err := normalize(v)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", cols[i].Name, err)
		}
		row[i] = n
	}
	return row, nil
}

// normalize maps a driver value of either engine to a Value.
func normalize(v any) (Value, error) {
	switch x := v.(type) {
	case nil, string, bool, int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case float32:
		return roundFloat(float64(x)), nil
	case float64:
		return roundFloat(x), nil
	case *big.Int:
		if !x.IsInt64() {
			return nil, fmt.Errorf("integer %s overflows int64", x)
		}
		return x.Int64(), nil
	case time.Time:
		return x.UTC(), nil
	case []byte:
		return string(x), nil
	case sql.NullString:
		if !x.Valid {
			return nil, nil
		}
		return x.String, nil
	}
	return nil, fmt.Errorf("unexpected value %T %v", v, v)
}

// roundFloat keeps 12 significant digits, so last-bit differences between
// engines do not show.
func roundFloat(f float64) float64 {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	if err != nil {
		return f
	}
	return r
}

// RefreshRollup (re)builds the named rollup from its metric's model in one
// transaction: readers see the old table or the new one.
func RefreshRollup(ctx context.Context, st *store.Store, c *Compiler, name string) error {
	ri := c.rollups[name]
	if ri == nil {
		return fmt.Errorf("%w: no rollup named %q", ErrInvalidRequest, name)
	}
	mi := c.byName[ri.r.Metric]
	r := &resolved{grain: ri.r.Grain, internal: map[string]string{}}
	cols := []string{}
	defs := []string{}
	if r.grain != "all_time" {
		cols = append(cols, q("period"))
		defs = append(defs, q("period")+" "+sqlType(st.Dialect, warehouse.Type{Base: "date"}))
	}
	for i, d := range ri.r.Dimensions {
		ref := ri.dims[i]
		r.dims = append(r.dims, reqDim{name: d, typ: ref.col.Type, refs: map[string]dimRef{mi.m.Name: ref}})
		cols = append(cols, q(d))
		defs = append(defs, q(d)+" "+sqlType(st.Dialect, ref.col.Type))
	}
	cols = append(cols, q("value"))
	defs = append(defs, q("value")+" "+sqlType(st.Dialect, mi.typ))
	g := &gen{schema: c.schema, d: st.Dialect, r: r}
	sel := g.baseSQL(&baseUse{mi: mi})
	stmts := []string{
		"DROP TABLE IF EXISTS " + q(name),
		"CREATE TABLE " + q(name) + " (" + strings.Join(defs, ", ") + ")",
		"INSERT INTO " + q(name) + " (" + strings.Join(cols, ", ") + ") " + sel,
	}
	if st.Dialect == store.Postgres {
		tx, err := st.PG.Begin(ctx)
		if err != nil {
			return fmt.Errorf("refresh rollup %s: %w", name, err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		for i, s := range stmts {
			var args []any
			if i == len(stmts)-1 {
				args = g.args
			}
			if _, err := tx.Exec(ctx, s, args...); err != nil {
				return fmt.Errorf("refresh rollup %s: %w", name, err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("refresh rollup %s: %w", name, err)
		}
		return nil
	}
	tx, err := st.Duck.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("refresh rollup %s: %w", name, err)
	}
	defer func() { _ = tx.Rollback() }()
	for i, s := range stmts {
		var args []any
		if i == len(stmts)-1 {
			args = g.args
		}
		if _, err := tx.ExecContext(ctx, s, args...); err != nil {
			return fmt.Errorf("refresh rollup %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("refresh rollup %s: %w", name, err)
	}
	return nil
}

// Rollups lists the declared rollups' names, sorted.
func (c *Compiler) Rollups() []string {
	out := make([]string, 0, len(c.rollups))
	for n := range c.rollups {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
