// Package sqlcursor reads changed rows of SQL tables through database/sql
// for the cursor poller: PostgreSQL (pgx) and MySQL/MariaDB
// (go-sql-driver/mysql).
//
// A table is captured by its updated-at column and its key: each page is the
// keyset query
//
//	WHERE updated > $1 OR (updated = $1 AND (key...) > ($2...)) ORDER BY updated, key... LIMIT n
//
// (or "updated >= $1" at the start of a poll, so rows at exactly the
// cursor's time that were not read yet are not lost; those already emitted
// are dropped by the poller by key). Columns are typed from the driver's
// column types: integers as long, numeric/decimal exactly (decimal with the
// declared precision and scale, or a variable-scale record), timestamps as
// timestamp-micros, dates, booleans, bytes, uuid; other types as their text.
// Rows whose updated-at is NULL are never read, and deletes are invisible:
// both are limits of cursor capture.
package sqlcursor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/riacho/riacho/services/cdc/internal/envelope"
	"github.com/riacho/riacho/services/cdc/internal/poll"
)

// Connector is the envelope's connector name for SQL-cursor tables.
const Connector = "sql"

// Fetcher is a poll.Fetcher over one database.
type Fetcher struct {
	db      *sql.DB
	ownDB   bool
	dialect dialect
	cfg     poll.SQLConfig
	names   []string
	tables  map[string]poll.SQLTable

	mu      sync.Mutex
	layouts map[string]*layout
}

// layout is a described table.
type layout struct {
	table   *envelope.Table
	columns []column
	updated int   // index of the updated-at column
	key     []int // indexes of the key columns
	sel     string
}

type dialect struct {
	name  string // "postgres" or "mysql"
	quote func(string) string
	ph    func(i int) string // placeholder i (1-based)
}

var dialects = map[string]dialect{
	"postgres": {
		name:  "postgres",
		quote: func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` },
		ph:    func(i int) string { return "$" + strconv.Itoa(i) },
	},
	"mysql": {
		name:  "mysql",
		quote: func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" },
		ph:    func(int) string { return "?" },
	},
}

// Open checks cfg (after cfg.Defaults), opens the database and prepares a
// Fetcher that closes it on Close. MySQL connections are set to parse
// times, in UTC.
func Open(cfg poll.SQLConfig) (*Fetcher, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sql config: %w", err)
	}
	dsn, err := cfg.ConnString()
	if err != nil {
		return nil, fmt.Errorf("sql config: %w", err)
	}
	var db *sql.DB
	switch cfg.Driver {
	case "postgres":
		if db, err = sql.Open("pgx", dsn); err != nil {
			return nil, fmt.Errorf("sql: open postgres: %w", err)
		}
	case "mysql":
		mc, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("sql config: dsn: %w", err)
		}
		mc.ParseTime = true
		mc.Loc = time.UTC
		conn, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, fmt.Errorf("sql: open mysql: %w", err)
		}
		db = sql.OpenDB(conn)
	}
	f, err := New(db, cfg)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	f.ownDB = true
	return f, nil
}

// New prepares a Fetcher over an open database; cfg.Driver says its
// dialect and cfg.DSN/DSNEnv are not used. Close leaves db open.
func New(db *sql.DB, cfg poll.SQLConfig) (*Fetcher, error) {
	cfg.Defaults()
	if cfg.DSN == "" && cfg.DSNEnv == "" {
		cfg.DSN = "-" // the connection is given
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sql config: %w", err)
	}
	d, ok := dialects[cfg.Driver]
	if !ok {
		return nil, fmt.Errorf("sql config: driver: %q is not postgres or mysql", cfg.Driver)
	}
	f := &Fetcher{db: db, dialect: d, cfg: cfg, tables: map[string]poll.SQLTable{}, layouts: map[string]*layout{}}
	for _, t := range cfg.Tables {
		name := t.Name
		if t.Schema != "" {
			name = t.Schema + "." + t.Name
		}
		f.names = append(f.names, name)
		f.tables[name] = t
	}
	return f, nil
}

// Entities implements poll.Fetcher: "schema.table", or "table" for tables
// configured without a schema.
func (f *Fetcher) Entities() []string { return append([]string(nil), f.names...) }

// Close implements poll.Closer; it closes the database if Open opened it.
func (f *Fetcher) Close(context.Context) error {
	if f.ownDB {
		return f.db.Close()
	}
	return nil
}

func (f *Fetcher) from(t poll.SQLTable) string {
	if t.Schema == "" {
		return f.dialect.quote(t.Name)
	}
	return f.dialect.quote(t.Schema) + "." + f.dialect.quote(t.Name)
}

// Describe implements poll.Fetcher: it reads the table's columns (so an
// added column gives a new table and schema) and checks the updated-at and
// key columns.
func (f *Fetcher) Describe(ctx context.Context, name string) (*envelope.Table, error) {
	t, ok := f.tables[name]
	if !ok {
		return nil, fmt.Errorf("sql: unknown table %q", name)
	}
	rows, err := f.db.QueryContext(ctx, "SELECT * FROM "+f.from(t)+" WHERE 1=0") //nolint:gosec // identifiers quoted by the dialect
	if err != nil {
		return nil, fmt.Errorf("sql: describe %s: %w", name, err)
	}
	cts, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("sql: describe %s: %w", name, err)
	}
	db, schema, err := f.names2(ctx, t)
	if err != nil {
		return nil, err
	}
	l := &layout{updated: -1}
	tbl := &envelope.Table{Connector: Connector, DB: db, Schema: schema, Name: t.Name, Key: append([]string(nil), t.Key...)}
	byName := map[string]int{}
	var sel []string
	for i, ct := range cts {
		c := mapColumn(ct)
		l.columns = append(l.columns, c)
		byName[c.name] = i
		tbl.Columns = append(tbl.Columns, envelope.Field{Name: c.name, Type: c.avro(), SourceType: strings.ToLower(c.dbType)})
		sel = append(sel, f.dialect.quote(c.name))
	}
	i, ok := byName[t.UpdatedAt]
	if !ok {
		return nil, fmt.Errorf("sql: table %s has no column %q (updated_at)", name, t.UpdatedAt)
	}
	if k := l.columns[i].kind; k != kTimestamp && k != kDate {
		return nil, fmt.Errorf("sql: table %s: updated_at column %q is %s, not a timestamp or date", name, t.UpdatedAt, l.columns[i].dbType)
	}
	l.updated = i
	for _, k := range t.Key {
		j, ok := byName[k]
		if !ok {
			return nil, fmt.Errorf("sql: table %s has no key column %q", name, k)
		}
		l.key = append(l.key, j)
	}
	l.sel = "SELECT " + strings.Join(sel, ", ") + " FROM " + f.from(t)
	l.table = tbl
	f.mu.Lock()
	f.layouts[name] = l
	f.mu.Unlock()
	cp := *tbl
	cp.Columns = append([]envelope.Field(nil), tbl.Columns...)
	return &cp, nil
}

// names2 is the database name and the table's schema (the configured one,
// or the connection's current schema).
func (f *Fetcher) names2(ctx context.Context, t poll.SQLTable) (db, schema string, err error) {
	q := "SELECT current_database(), current_schema()"
	if f.dialect.name == "mysql" {
		q = "SELECT DATABASE(), DATABASE()"
	}
	var dbn, cur sql.NullString
	if err := f.db.QueryRowContext(ctx, q).Scan(&dbn, &cur); err != nil {
		return "", "", fmt.Errorf("sql: current database: %w", err)
	}
	schema = t.Schema
	if schema == "" {
		schema = f.cfg.Schema
	}
	if schema == "" {
		schema = cur.String
	}
	return dbn.String, schema, nil
}

// Fetch implements poll.Fetcher with a keyset query.
func (f *Fetcher) Fetch(ctx context.Context, name string, from poll.Position, limit int) (poll.Page, error) {
	f.mu.Lock()
	l := f.layouts[name]
	f.mu.Unlock()
	if l == nil {
		if _, err := f.Describe(ctx, name); err != nil {
			return poll.Page{}, err
		}
		f.mu.Lock()
		l = f.layouts[name]
		f.mu.Unlock()
	}
	if limit < 1 {
		limit = f.cfg.PageSize
	}
	q, args := f.query(l, from, limit)
	rows, err := f.db.QueryContext(ctx, q, args...)
	if err != nil {
		return poll.Page{}, fmt.Errorf("sql: table %s: %w", name, err)
	}
	defer rows.Close()
	var page poll.Page
	vals := make([]any, len(l.columns))
	ptrs := make([]any, len(l.columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return poll.Page{}, fmt.Errorf("sql: table %s: scan: %w", name, err)
		}
		page.Rows = append(page.Rows, l.record(vals))
	}
	if err := rows.Err(); err != nil {
		return poll.Page{}, fmt.Errorf("sql: table %s: %w", name, err)
	}
	page.More = len(page.Rows) >= limit
	return page, nil
}

// query is the keyset query of a page from position p.
func (f *Fetcher) query(l *layout, p poll.Position, limit int) (string, []any) {
	d := f.dialect
	upd := d.quote(l.columns[l.updated].name)
	keys := make([]string, len(l.key))
	for i, k := range l.key {
		keys[i] = d.quote(l.columns[k].name)
	}
	var where string
	var args []any
	switch {
	case p.TS.IsZero():
		where = upd + " IS NOT NULL"
	case len(p.Key) != len(l.key):
		where = upd + " >= " + d.ph(1)
		args = append(args, f.tsParam(l, p.TS))
	default:
		ts := f.tsParam(l, p.TS)
		args = append(args, ts)
		tsA, tsB := d.ph(1), d.ph(1)
		if d.name == "mysql" {
			args = append(args, ts)
		}
		phs := make([]string, len(l.key))
		for i, k := range p.Key {
			phs[i] = d.ph(len(args) + 1)
			args = append(args, l.columns[l.key[i]].param(k))
		}
		where = fmt.Sprintf("(%s > %s OR (%s = %s AND (%s) > (%s)))", upd, tsA, upd, tsB,
			strings.Join(keys, ", "), strings.Join(phs, ", "))
	}
	order := append([]string{upd}, keys...)
	return l.sel + " WHERE " + where + " ORDER BY " + strings.Join(order, ", ") + " LIMIT " + strconv.Itoa(limit), args
}

// tsParam is a position time in the form the updated-at column compares
// with: a date for date columns.
func (f *Fetcher) tsParam(l *layout, ts time.Time) any {
	ts = ts.UTC()
	if l.columns[l.updated].kind == kDate {
		return ts.Format(time.DateOnly)
	}
	return ts
}

// record converts one scanned row.
func (l *layout) record(vals []any) poll.Record {
	rec := poll.Record{Values: make(envelope.Row, len(l.columns))}
	for i, c := range l.columns {
		v, err := c.convert(vals[i])
		if err != nil {
			rec.Problems = append(rec.Problems, fmt.Errorf("column %s (%s): %w", c.name, c.dbType, err))
			v = nil
		}
		rec.Values[c.name] = v
	}
	for _, k := range l.key {
		v := rec.Values[l.columns[k].name]
		if v == nil {
			rec.Err = errors.Join(rec.Err, fmt.Errorf("key column %s is null or unreadable", l.columns[k].name))
		}
		rec.Key = append(rec.Key, v)
	}
	switch ts := rec.Values[l.columns[l.updated].name].(type) {
	case time.Time:
		rec.TS = ts
	default:
		rec.Err = errors.Join(rec.Err, fmt.Errorf("updated_at column %s is unreadable", l.columns[l.updated].name))
	}
	if rec.Err != nil {
		rec.Raw = []byte(fmt.Sprint(vals))
	}
	return rec
}
