package pgcdc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/envelope"
	"github.com/riacho/riacho/services/cdc/internal/pgtypes"
)

// ops are the event kinds counted per table, in counter order.
var ops = [...]envelope.Op{envelope.OpCreate, envelope.OpUpdate, envelope.OpDelete, envelope.OpRead, envelope.OpTruncate}

func opIndex(op envelope.Op) int {
	for i, o := range ops {
		if o == op {
			return i
		}
	}
	return 0
}

// tableState is what the capture knows about one table across sessions:
// counts, failure, snapshot progress.
type tableState struct {
	schema, name, id string

	counts   [len(ops)]atomic.Int64
	counters [len(ops)]prometheus.Counter

	mu          sync.Mutex
	failed      string
	failedAt    time.Time
	deadLetters int64
	snapRunning bool
	snapErr     string

	// window is the incremental snapshot chunk whose watermark window is
	// open on this table; used by the stream goroutine only.
	window *chunk
}

func newTableState(c *Capture, schema, name string) *tableState {
	ts := &tableState{schema: schema, name: name, id: schema + "." + name}
	for i, op := range ops {
		ts.counters[i] = c.metrics.events.WithLabelValues(ts.id, op.String())
	}
	return ts
}

func (ts *tableState) count(op envelope.Op) {
	i := opIndex(op)
	ts.counts[i].Add(1)
	ts.counters[i].Inc()
}

// fail marks the table failed with err; deadLettered counts one change
// written to the dead-letter topic.
func (ts *tableState) fail(err error, deadLettered bool) {
	ts.mu.Lock()
	ts.failed = err.Error()
	ts.failedAt = time.Now()
	if deadLettered {
		ts.deadLetters++
	}
	ts.mu.Unlock()
}

func (ts *tableState) failedText() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.failed
}

func (ts *tableState) setSnapRunning(on bool) {
	ts.mu.Lock()
	ts.snapRunning = on
	ts.mu.Unlock()
}

func (ts *tableState) setSnapErr(err error) {
	ts.mu.Lock()
	ts.snapErr = ""
	if err != nil {
		ts.snapErr = err.Error()
	}
	ts.mu.Unlock()
}

func (ts *tableState) clearFailure() {
	ts.mu.Lock()
	ts.failed = ""
	ts.failedAt = time.Time{}
	ts.mu.Unlock()
}

// column is one column of a captured table with its decoder.
type column struct {
	name   string
	oid    uint32
	mod    int32
	format string // format_type, for casts of key values
	decode func([]byte) (any, error)
}

// tableDesc is a table's columns, key and Avro shape, and its prepared
// stream (nil when the registry refused the shape: prepErr says why).
type tableDesc struct {
	ts      *tableState
	oid     uint32
	cols    []column
	key     []int // indexes into cols
	table   *envelope.Table
	stream  *emit.Stream
	prepErr error
}

// buildDesc maps cols with the catalog, derives the envelope table and
// prepares its stream. A shape the registry refuses as incompatible is kept
// in prepErr (the table's events then go to the dead-letter topic); other
// failures are returned.
func (s *session) buildDesc(ctx context.Context, ts *tableState, oid uint32, cols []column, key []string) (*tableDesc, error) {
	d := &tableDesc{ts: ts, oid: oid, cols: cols}
	fields := make([]envelope.Field, len(cols))
	for i := range cols {
		m, err := s.catalog.Map(ctx, pgtypes.Column{Name: cols[i].name, OID: cols[i].oid, TypeMod: cols[i].mod})
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", ts.id, err)
		}
		d.cols[i].decode = m.Decode
		if d.cols[i].format == "" {
			d.cols[i].format = m.SourceType
		}
		fields[i] = envelope.Field{Name: cols[i].name, Type: m.Type, SourceType: m.SourceType}
	}
	var keyNames []string
	for _, k := range key {
		for i := range cols {
			if cols[i].name == k {
				d.key = append(d.key, i)
				keyNames = append(keyNames, k)
				break
			}
		}
	}
	if len(keyNames) != len(key) {
		// A key column is not among the published columns: no key.
		d.key, keyNames = nil, nil
	}
	d.table = &envelope.Table{Source: s.c.cfg.Source, Connector: Connector, DB: s.db,
		Schema: ts.schema, Name: ts.name, Columns: fields, Key: keyNames}
	st, err := s.c.em.Prepare(ctx, d.table)
	switch {
	case err == nil:
		d.stream = st
	case errors.Is(err, avro.ErrIncompatible):
		d.prepErr = err
		ts.fail(err, false)
		s.log.Error("table schema refused by the registry; its changes go to the dead-letter topic",
			"table", ts.id, "err", err)
	default:
		return nil, fmt.Errorf("table %s: %w", ts.id, err)
	}
	return d, nil
}

// keyQuery lists the key columns of a table: its primary key, or else its
// replica identity index.
const keyQuery = `WITH ix AS (
	SELECT indkey::int2[] AS cols FROM pg_catalog.pg_index
	WHERE indrelid = $1::oid AND (indisprimary OR indisreplident)
	ORDER BY indisprimary DESC LIMIT 1)
SELECT a.attname::text FROM ix, unnest(ix.cols) WITH ORDINALITY AS k(attnum, n)
JOIN pg_catalog.pg_attribute a ON a.attrelid = $1::oid AND a.attnum = k.attnum
ORDER BY k.n`

func (s *session) tableKey(ctx context.Context, oid uint32) ([]string, error) {
	rows, err := s.pool.Query(ctx, keyQuery, oid)
	if err != nil {
		return nil, fmt.Errorf("look up key of table %d: %w", oid, err)
	}
	key, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up key of table %d: %w", oid, err)
	}
	return key, nil
}

// columnsQuery lists the columns pgoutput publishes (generated columns are not).
const columnsQuery = `SELECT a.attname::text, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum`

// describe reads a table's current columns and key from the catalog.
func (s *session) describe(ctx context.Context, t discovered) (*tableDesc, error) {
	rows, err := s.pool.Query(ctx, columnsQuery, t.oid)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", t.id(), err)
	}
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.oid, &c.mod, &c.format); err != nil {
			rows.Close()
			return nil, fmt.Errorf("describe %s: %w", t.id(), err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe %s: %w", t.id(), err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("describe %s: no columns (table dropped?)", t.id())
	}
	key, err := s.tableKey(ctx, t.oid)
	if err != nil {
		return nil, err
	}
	return s.buildDesc(ctx, s.c.table(t.schema, t.name), t.oid, cols, key)
}

// discovered is a table found in the catalog.
type discovered struct {
	oid         uint32
	schema      string
	name        string
	partitioned bool
}

func (t discovered) id() string { return t.schema + "." + t.name }

func (t discovered) ident() string { return pgx.Identifier{t.schema, t.name}.Sanitize() }

// tablesQuery lists the tables a publication can hold: permanent ordinary
// and partitioned tables that are not partitions themselves.
const tablesQuery = `SELECT c.oid, n.nspname::text, c.relname::text, c.relkind = 'p'
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
ORDER BY 2, 3`

// discover lists the captured tables.
func (s *session) discover(ctx context.Context) ([]discovered, error) {
	rows, err := s.pool.Query(ctx, tablesQuery)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []discovered
	for rows.Next() {
		var t discovered
		if err := rows.Scan(&t.oid, &t.schema, &t.name, &t.partitioned); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if s.c.match.match(t.schema, t.name) {
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}

// ensurePublication creates the publication or makes it publish exactly
// tables (a FOR ALL TABLES publication made by hand is left alone).
func (s *session) ensurePublication(ctx context.Context, tables []discovered) error {
	pub := pgx.Identifier{s.c.cfg.Publication}.Sanitize()
	var all bool
	err := s.pool.QueryRow(ctx, `SELECT puballtables FROM pg_catalog.pg_publication WHERE pubname = $1`, s.c.cfg.Publication).Scan(&all)
	if errors.Is(err, pgx.ErrNoRows) {
		sql := "CREATE PUBLICATION " + pub
		if len(tables) > 0 {
			sql += " FOR TABLE " + identList(tables)
		}
		sql += " WITH (publish_via_partition_root = true)"
		if _, err := s.pool.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create publication %s: %w", s.c.cfg.Publication, err)
		}
		s.log.Info("publication created", "publication", s.c.cfg.Publication, "tables", len(tables))
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up publication %s: %w", s.c.cfg.Publication, err)
	}
	if all {
		return nil
	}
	rows, err := s.pool.Query(ctx, `SELECT schemaname::text || '.' || tablename::text FROM pg_catalog.pg_publication_tables WHERE pubname = $1`, s.c.cfg.Publication)
	if err != nil {
		return fmt.Errorf("list tables of publication %s: %w", s.c.cfg.Publication, err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list tables of publication %s: %w", s.c.cfg.Publication, err)
	}
	in := map[string]bool{}
	for _, h := range have {
		in[h] = true
	}
	var add []discovered
	want := map[string]bool{}
	for _, t := range tables {
		want[t.id()] = true
		if !in[t.id()] {
			add = append(add, t)
		}
	}
	var drop []string
	for _, h := range have {
		if !want[h] {
			schema, name, _ := strings.Cut(h, ".")
			drop = append(drop, pgx.Identifier{schema, name}.Sanitize())
		}
	}
	if len(add) > 0 {
		if _, err := s.pool.Exec(ctx, "ALTER PUBLICATION "+pub+" ADD TABLE "+identList(add)); err != nil {
			return fmt.Errorf("add tables to publication %s: %w", s.c.cfg.Publication, err)
		}
		s.log.Info("tables added to the publication", "publication", s.c.cfg.Publication, "tables", len(add))
	}
	if len(drop) > 0 {
		if _, err := s.pool.Exec(ctx, "ALTER PUBLICATION "+pub+" DROP TABLE "+strings.Join(drop, ", ")); err != nil {
			return fmt.Errorf("drop tables from publication %s: %w", s.c.cfg.Publication, err)
		}
		s.log.Info("tables dropped from the publication", "publication", s.c.cfg.Publication, "tables", len(drop))
	}
	return nil
}

func identList(tables []discovered) string {
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = t.ident()
	}
	return strings.Join(parts, ", ")
}

// keyText is a row's key as one comparable string, built from the text of
// its key columns; get returns the text of column i (ok false when absent).
func keyText(key []int, get func(i int) ([]byte, bool)) (string, bool) {
	var b []byte
	for _, k := range key {
		v, ok := get(k)
		if !ok {
			return "", false
		}
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	return string(b), true
}

// splitTable parses "schema.table" ("table" alone is in public).
func splitTable(s string) (schema, name string) {
	if schema, name, ok := strings.Cut(s, "."); ok {
		return schema, name
	}
	return "public", s
}
