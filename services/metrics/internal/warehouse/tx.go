package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/riacho/riacho/services/metrics/internal/store"
)

// dbTx is one load transaction in either dialect. Values are neutral (see
// convertValue); each implementation renders them for its driver.
type dbTx interface {
	exec(ctx context.Context, stmt string, args ...any) (int64, error)
	// query returns rows, each value normalised by types (nil: as read).
	query(ctx context.Context, stmt string, types []Type, args ...any) ([][]any, error)
	// copyRows appends rows (PostgreSQL: COPY).
	copyRows(ctx context.Context, table string, cols []string, rows [][]any) error
	// upsert inserts rows, replacing those with the same key (one row per key).
	upsert(ctx context.Context, t *Table, cols []string, rows [][]any) error
	deleteKeys(ctx context.Context, table string, key []string, keys [][]any) error
	commit(ctx context.Context) error
	rollback()
}

func begin(ctx context.Context, st *store.Store) (dbTx, error) {
	if st.Dialect == store.Postgres {
		tx, err := st.PG.Begin(ctx)
		if err != nil {
			return nil, err
		}
		return &pgTx{tx: tx}, nil
	}
	tx, err := st.Duck.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &duckTx{tx: tx}, nil
}

// classify marks errors about a value the warehouse refused.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
		return fmt.Errorf("%w: %w", errDataRefused, err)
	}
	var dErr *duckdb.Error
	if errors.As(err, &dErr) {
		switch dErr.Type {
		case duckdb.ErrorTypeConversion, duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeConstraint, duckdb.ErrorTypeInvalidInput,
			duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeDecimal, duckdb.ErrorTypeInvalidType:
			return fmt.Errorf("%w: %w", errDataRefused, err)
		}
	}
	return err
}

func quoteAll(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = q(n)
	}
	return strings.Join(out, ", ")
}

// conflictClause is ON CONFLICT for an upsert of cols by t's key.
func conflictClause(t *Table, cols []string) string {
	var sets []string
	for _, c := range cols {
		if !contains(t.Key, c) {
			sets = append(sets, q(c)+" = EXCLUDED."+q(c))
		}
	}
	if len(sets) == 0 {
		return " ON CONFLICT (" + quoteAll(t.Key) + ") DO NOTHING"
	}
	return " ON CONFLICT (" + quoteAll(t.Key) + ") DO UPDATE SET " + strings.Join(sets, ", ")
}

// keyWhere renders "k1" = $n AND "k2" = $n+1 …, starting at placeholder first.
func keyWhere(key []string, first int) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = q(k) + " = $" + strconv.Itoa(first+i)
	}
	return strings.Join(parts, " AND ")
}

// updateVersionSQL rewrites one stored type 2 version, found by key and valid_from.
func updateVersionSQL(t *Table) string {
	var sets []string
	n := 1
	for _, c := range t.Columns {
		sets = append(sets, q(c.Name)+" = $"+strconv.Itoa(n))
		n++
	}
	sets = append(sets, q(colValidTo)+" = $"+strconv.Itoa(n), q(colIsCurrent)+" = $"+strconv.Itoa(n+1))
	n += 2
	return "UPDATE " + q(t.Name) + " SET " + strings.Join(sets, ", ") + " WHERE " + keyWhere(t.Key, n) +
		" AND " + q(colValidFrom) + " = $" + strconv.Itoa(n+len(t.Key))
}

func updateVersionArgs(v *version) []any {
	args := make([]any, 0, len(v.row)+3+len(v.key))
	args = append(args, v.row...)
	args = append(args, timeOrNil(v.validTo), v.current)
	args = append(args, v.key...)
	return append(args, v.validFrom)
}

// newestVersions reads the newest stored version of each key of a type 2 dimension.
func (l *Loader) newestVersions(ctx context.Context, tx dbTx, t *Table, keys map[string][]any) (map[string]*version, error) {
	types := make([]Type, 0, len(t.Columns)+3)
	for _, c := range t.Columns {
		types = append(types, c.Type)
	}
	types = append(types, Type{Base: "timestamp"}, Type{Base: "timestamp"}, Type{Base: "boolean"})
	sel := "SELECT " + quoteAll(columnNames(t.Columns)) + ", " + quoteAll([]string{colValidFrom, colValidTo, colIsCurrent}) +
		" FROM " + q(t.Name) + " WHERE "
	out := map[string]*version{}
	all := make([][]any, 0, len(keys))
	for _, k := range keys {
		all = append(all, k)
	}
	const chunk = 200
	nc := len(t.Columns)
	for start := 0; start < len(all); start += chunk {
		part := all[start:min(start+chunk, len(all))]
		var conds []string
		var args []any
		for _, k := range part {
			conds = append(conds, "("+keyWhere(t.Key, len(args)+1)+")")
			args = append(args, k...)
		}
		rows, err := tx.query(ctx, sel+strings.Join(conds, " OR ")+" ORDER BY "+q(colValidFrom), types, args...)
		if err != nil {
			return nil, fmt.Errorf("read current versions: %w", err)
		}
		for _, r := range rows {
			v := &version{row: r[:nc], stored: true}
			v.key = keyOf(t, v.row)
			v.validFrom, _ = r[nc].(time.Time)
			if to, ok := r[nc+1].(time.Time); ok {
				v.validTo = &to
			}
			v.current, _ = r[nc+2].(bool)
			out[rowKey(v.key)] = v
		}
	}
	return out, nil
}

// --- PostgreSQL ---

type pgTx struct{ tx pgx.Tx }

func pgRows(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		o := make([]any, len(r))
		for j, v := range r {
			o[j] = dbValue(store.Postgres, v)
		}
		out[i] = o
	}
	return out
}

func pgArgs(args []any) []any {
	out := make([]any, len(args))
	for i, v := range args {
		out[i] = dbValue(store.Postgres, v)
	}
	return out
}

func (p *pgTx) exec(ctx context.Context, stmt string, args ...any) (int64, error) {
	tag, err := p.tx.Exec(ctx, stmt, pgArgs(args)...)
	return tag.RowsAffected(), err
}

func (p *pgTx) query(ctx context.Context, stmt string, types []Type, args ...any) ([][]any, error) {
	rows, err := p.tx.Query(ctx, stmt, pgArgs(args)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		if types != nil {
			for i := range vals {
				vals[i] = fromDB(types[i], vals[i])
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func (p *pgTx) copyRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	_, err := p.tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(pgRows(rows)))
	return err
}

func stageName(table string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(table))
	return fmt.Sprintf("riacho_stage_%08x", h.Sum32())
}

func (p *pgTx) upsert(ctx context.Context, t *Table, cols []string, rows [][]any) error {
	stage := stageName(t.Name)
	if _, err := p.tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+q(stage)+" (LIKE "+q(t.Name)+") ON COMMIT DELETE ROWS"); err != nil {
		return fmt.Errorf("staging table: %w", err)
	}
	if _, err := p.tx.CopyFrom(ctx, pgx.Identifier{stage}, cols, pgx.CopyFromRows(pgRows(rows))); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	list := quoteAll(cols)
	if _, err := p.tx.Exec(ctx, "INSERT INTO "+q(t.Name)+" ("+list+") SELECT "+list+" FROM "+q(stage)+conflictClause(t, cols)); err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	return nil
}

func (p *pgTx) deleteKeys(ctx context.Context, table string, key []string, keys [][]any) error {
	stmt := "DELETE FROM " + q(table) + " WHERE " + keyWhere(key, 1) //nolint:gosec // validated, quoted identifiers; values are parameters
	b := &pgx.Batch{}
	for _, k := range keys {
		b.Queue(stmt, pgArgs(k)...)
	}
	return p.tx.SendBatch(ctx, b).Close()
}

func (p *pgTx) commit(ctx context.Context) error { return p.tx.Commit(ctx) }

func (p *pgTx) rollback() { _ = p.tx.Rollback(context.Background()) }

// --- DuckDB ---

type duckTx struct{ tx *sql.Tx }

// duckParams bounds the parameters of one multi-row INSERT.
const duckParams = 2048

func duckArgs(args []any) []any {
	out := make([]any, len(args))
	for i, v := range args {
		out[i] = dbValue(store.DuckDB, v)
	}
	return out
}

func (d *duckTx) exec(ctx context.Context, stmt string, args ...any) (int64, error) {
	res, err := d.tx.ExecContext(ctx, stmt, duckArgs(args)...) //nolint:gosec // statements are built from warehouse.yml identifiers (validated, quoted); values are parameters
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *duckTx) query(ctx context.Context, stmt string, types []Type, args ...any) ([][]any, error) {
	rows, err := d.tx.QueryContext(ctx, stmt, duckArgs(args)...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		if types != nil {
			for i := range vals {
				vals[i] = fromDB(types[i], vals[i])
			}
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// insertRows runs multi-row INSERTs of rows, suffix appended to each.
func (d *duckTx) insertRows(ctx context.Context, table string, cols []string, rows [][]any, suffix string) error {
	per := max(1, duckParams/len(cols))
	head := "INSERT INTO " + q(table) + " (" + quoteAll(cols) + ") VALUES "
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(part)*len(cols))
		for i, r := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, dbValue(store.DuckDB, v))
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
			b.WriteByte(')')
		}
		b.WriteString(suffix)
		if _, err := d.tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func (d *duckTx) copyRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	return d.insertRows(ctx, table, cols, rows, "")
}

func (d *duckTx) upsert(ctx context.Context, t *Table, cols []string, rows [][]any) error {
	return d.insertRows(ctx, t.Name, cols, rows, conflictClause(t, cols))
}

func (d *duckTx) deleteKeys(ctx context.Context, table string, key []string, keys [][]any) error {
	stmt := "DELETE FROM " + q(table) + " WHERE " + keyWhere(key, 1) //nolint:gosec // validated, quoted identifiers; values are parameters
	for _, k := range keys {
		if _, err := d.tx.ExecContext(ctx, stmt, duckArgs(k)...); err != nil {
			return err
		}
	}
	return nil
}

func (d *duckTx) commit(context.Context) error { return d.tx.Commit() }

func (d *duckTx) rollback() { _ = d.tx.Rollback() }
