package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/store"
)

// ErrSchemaDrift is wrapped by Migrate's errors about an existing table
// whose columns or key differ from warehouse.yml.
var ErrSchemaDrift = errors.New("warehouse table differs from warehouse.yml")

// The loader's own tables.
const (
	OffsetsTable   = "riacho_offsets"
	FreshnessTable = "riacho_freshness"
	RejectsTable   = "riacho_rejects"
)

// Freshness is what the warehouse holds of one table: the newest event time
// loaded (the event_time column, else the Kafka record timestamp), when the
// loader last committed rows to it, and how many records it has applied
// (upserts, appends and tombstones; rejects excluded).
type Freshness struct {
	MaxEventTime, LoadedAt time.Time
	Rows                   int64
}

// q quotes an identifier; names are checked by ParseSchema, so this never
// needs escaping, and quoting keeps words like "offset" usable.
func q(name string) string { return `"` + name + `"` }

func stateDDL(d store.Dialect) []string {
	blob := "bytea"
	if d == store.DuckDB {
		blob = "BLOB"
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS riacho_offsets (consumer text NOT NULL, topic text NOT NULL, "partition" integer NOT NULL,
			next_offset bigint NOT NULL, PRIMARY KEY (consumer, topic, "partition"))`,
		`CREATE TABLE IF NOT EXISTS riacho_freshness (table_name text PRIMARY KEY, max_event_time timestamptz,
			loaded_at timestamptz, rows_loaded bigint NOT NULL DEFAULT 0, generation bigint NOT NULL DEFAULT 0)`,
		`CREATE TABLE IF NOT EXISTS riacho_rejects (topic text NOT NULL, "partition" integer NOT NULL, "offset" bigint NOT NULL,
			table_name text NOT NULL, reason text NOT NULL, record_key ` + blob + `, value ` + blob + `,
			rejected_at timestamptz NOT NULL, PRIMARY KEY (topic, "partition", "offset"))`,
	}
}

// physicalColumns are a table's columns in the warehouse, in order: the
// declared ones, then valid_from, valid_to, is_current on type 2 dimensions.
func physicalColumns(t *Table) []Column {
	cols := slices.Clone(t.Columns)
	if t.SCD == 2 {
		cols = append(cols,
			Column{Name: colValidFrom, Type: Type{Base: "timestamp"}},
			Column{Name: colValidTo, Type: Type{Base: "timestamp"}},
			Column{Name: colIsCurrent, Type: Type{Base: "boolean"}})
	}
	return cols
}

// primaryKey is the table's primary key in the warehouse (nil: append-only).
func primaryKey(t *Table) []string {
	if t.SCD == 2 {
		return append(slices.Clone(t.Key), colValidFrom)
	}
	return t.Key
}

// createTableSQL renders t's CREATE TABLE IF NOT EXISTS.
func createTableSQL(d store.Dialect, t *Table) string {
	pk := primaryKey(t)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (", q(t.Name))
	for i, c := range physicalColumns(t) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q(c.Name) + " " + c.Type.SQL(d))
		switch {
		case slices.Contains(pk, c.Name):
			b.WriteString(" NOT NULL")
		case c.Name == colIsCurrent:
			b.WriteString(" NOT NULL DEFAULT true")
		}
	}
	if len(pk) > 0 {
		quoted := make([]string, len(pk))
		for i, k := range pk {
			quoted[i] = q(k)
		}
		fmt.Fprintf(&b, ", PRIMARY KEY (%s)", strings.Join(quoted, ", "))
	}
	b.WriteString(")")
	return b.String()
}

// Migrate creates the loader's state tables and every table of s that does
// not exist yet, in st's dialect. An existing table is checked against its
// declaration: a declared column it lacks is added with ALTER TABLE ADD
// COLUMN (nullable, so old rows read NULL) unless it is part of the key; a
// column it has but s does not declare, a column of another type, or another
// primary key is an error wrapping ErrSchemaDrift, and nothing is altered.
func Migrate(ctx context.Context, st *store.Store, s *Schema) error {
	for _, ddl := range stateDDL(st.Dialect) {
		if err := execSQL(ctx, st, ddl); err != nil {
			return fmt.Errorf("create loader state tables: %w", err)
		}
	}
	var errs []error
	for _, t := range s.Tables {
		if err := migrateTable(ctx, st, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func migrateTable(ctx context.Context, st *store.Store, t *Table) error {
	if err := execSQL(ctx, st, createTableSQL(st.Dialect, t)); err != nil {
		return fmt.Errorf("create table %s: %w", t.Name, err)
	}
	have, err := existingColumns(ctx, st, t.Name)
	if err != nil {
		return fmt.Errorf("table %s: read columns: %w", t.Name, err)
	}
	pk := primaryKey(t)
	var errs, adds []string
	for _, c := range physicalColumns(t) {
		got, ok := have[c.Name]
		switch {
		case !ok && slices.Contains(pk, c.Name):
			errs = append(errs, fmt.Sprintf("key column %s is missing", c.Name))
		case !ok:
			adds = append(adds, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", q(t.Name), q(c.Name), c.Type.SQL(st.Dialect)))
		case got != c.Type.String():
			errs = append(errs, fmt.Sprintf("column %s is %s in the warehouse, declared %s", c.Name, got, c.Type))
		}
		delete(have, c.Name)
	}
	for name, typ := range have {
		errs = append(errs, fmt.Sprintf("column %s (%s) is in the warehouse but not declared", name, typ))
	}
	gotPK, err := existingPrimaryKey(ctx, st, t.Name)
	if err != nil {
		return fmt.Errorf("table %s: read primary key: %w", t.Name, err)
	}
	if !slices.Equal(gotPK, pk) {
		errs = append(errs, fmt.Sprintf("primary key is (%s) in the warehouse, declared (%s)",
			strings.Join(gotPK, ", "), strings.Join(pk, ", ")))
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("%w: table %s (declared in %s:%d): %s; migrate or drop the table by hand",
			ErrSchemaDrift, t.Name, t.File, t.Line, strings.Join(errs, "; "))
	}
	for _, a := range adds {
		if err := execSQL(ctx, st, a); err != nil {
			return fmt.Errorf("table %s: %s: %w", t.Name, a, err)
		}
	}
	return nil
}

func execSQL(ctx context.Context, st *store.Store, stmt string, args ...any) error {
	if st.Dialect == store.Postgres {
		_, err := st.PG.Exec(ctx, stmt, args...)
		return err
	}
	_, err := st.Duck.ExecContext(ctx, stmt, args...)
	return err
}

// existingColumns maps the columns of table to their types, written as in
// warehouse.yml where the type is one riacho declares.
func existingColumns(ctx context.Context, st *store.Store, table string) (map[string]string, error) {
	const query = `SELECT column_name, data_type, coalesce(numeric_precision, 0), coalesce(numeric_scale, 0)
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`
	out := map[string]string{}
	add := func(name, typ string, p, s int64) {
		out[name] = normalizeType(typ, p, s)
	}
	if st.Dialect == store.Postgres {
		rows, err := st.PG.Query(ctx, query, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ string
			var p, s int64
			if err := rows.Scan(&name, &typ, &p, &s); err != nil {
				return nil, err
			}
			add(name, typ, p, s)
		}
		return out, rows.Err()
	}
	rows, err := st.Duck.QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var name, typ string
		var p, s int64
		if err := rows.Scan(&name, &typ, &p, &s); err != nil {
			return nil, err
		}
		add(name, typ, p, s)
	}
	return out, rows.Err()
}

// normalizeType turns an information_schema data_type of either dialect
// into warehouse.yml's spelling.
func normalizeType(typ string, precision, scale int64) string {
	t := strings.ToLower(typ)
	switch t {
	case "text", "varchar", "character varying":
		return "text"
	case "integer", "int", "int4":
		return "integer"
	case "bigint", "int8":
		return "bigint"
	case "double precision", "double", "float8":
		return "double"
	case "boolean", "bool":
		return "boolean"
	case "date":
		return "date"
	case "timestamp with time zone", "timestamptz":
		return "timestamp"
	case "numeric", "decimal":
		return fmt.Sprintf("numeric(%d,%d)", precision, scale)
	}
	if strings.HasPrefix(t, "decimal(") {
		return "numeric" + strings.TrimPrefix(t, "decimal")
	}
	return t
}

func existingPrimaryKey(ctx context.Context, st *store.Store, table string) ([]string, error) {
	if st.Dialect == store.Postgres {
		rows, err := st.PG.Query(ctx, `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1)) AND i.indisprimary
			ORDER BY array_position(i.indkey::int2[], a.attnum)`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return nil, err
			}
			out = append(out, name)
		}
		return out, rows.Err()
	}
	var cols any
	err := st.Duck.QueryRowContext(ctx, `SELECT constraint_column_names FROM duckdb_constraints()
		WHERE schema_name = current_schema() AND table_name = $1 AND constraint_type = 'PRIMARY KEY'`, table).Scan(&cols)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	list, _ := cols.([]any)
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, fmt.Sprint(c))
	}
	return out, nil
}

// ReadFreshness reads every table's freshness and the warehouse's load
// generation (the highest generation any commit wrote; 0 before the first).
func ReadFreshness(ctx context.Context, st *store.Store) (map[string]Freshness, int64, error) {
	const query = `SELECT table_name, max_event_time, loaded_at, rows_loaded, generation FROM riacho_freshness`
	out := map[string]Freshness{}
	var gen int64
	add := func(name string, ev, at sql.NullTime, rows, g int64) {
		f := Freshness{Rows: rows}
		if ev.Valid {
			f.MaxEventTime = ev.Time.UTC()
		}
		if at.Valid {
			f.LoadedAt = at.Time.UTC()
		}
		out[name] = f
		gen = max(gen, g)
	}
	if st.Dialect == store.Postgres {
		rows, err := st.PG.Query(ctx, query)
		if err != nil {
			return nil, 0, fmt.Errorf("read warehouse freshness: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var ev, at *time.Time
			var n, g int64
			if err := rows.Scan(&name, &ev, &at, &n, &g); err != nil {
				return nil, 0, fmt.Errorf("read warehouse freshness: %w", err)
			}
			add(name, nullTime(ev), nullTime(at), n, g)
		}
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("read warehouse freshness: %w", err)
		}
		return out, gen, nil
	}
	rows, err := st.Duck.QueryContext(ctx, query)
	if err != nil {
		return nil, 0, fmt.Errorf("read warehouse freshness: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var name string
		var ev, at sql.NullTime
		var n, g int64
		if err := rows.Scan(&name, &ev, &at, &n, &g); err != nil {
			return nil, 0, fmt.Errorf("read warehouse freshness: %w", err)
		}
		add(name, ev, at, n, g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read warehouse freshness: %w", err)
	}
	return out, gen, nil
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}
