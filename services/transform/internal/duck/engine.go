package duck

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Options configures the DuckDB database of an Engine.
type Options struct {
	// Threads is DuckDB's worker thread count; 0 keeps DuckDB's default (one per core).
	Threads int
	// MemoryLimit is DuckDB's memory_limit, e.g. "512MB"; "" keeps DuckDB's default.
	MemoryLimit string
}

// Input is the data of one relation the model SQL reads.
type Input struct {
	// Table is the table name the SQL uses, e.g. src__ploomes__leads.
	Table string
	// Schema is the layout of Rows.
	Schema *InputSchema
	// Rows are decoded records, each as InputSchema.Decode returns it.
	Rows [][]any
}

// OutputColumn is one column of a model's result.
type OutputColumn struct {
	// Name is the column name.
	Name string
	// DuckType is the DuckDB type, e.g. VARCHAR, DATE, DECIMAL(18,2), STRUCT("a" INTEGER).
	DuckType string
}

// Result is the output of one Run.
type Result struct {
	// Columns describe the values of each row.
	Columns []OutputColumn
	// Rows are the result rows (see the package doc for the Go types).
	Rows [][]any
	// Stats are the time spent in each step.
	Stats Stats
}

// Stats are the durations of the steps of one Run. Input rows are handed
// to DuckDB while the query executes, so Load is part of the execution and
// Query is the rest of it.
type Stats struct {
	// Load is the time spent filling DuckDB vectors from Input.Rows.
	Load time.Duration
	// Query is the time to prepare and execute the SQL, less Load.
	Query time.Duration
	// Fetch is the time to read the result rows into Go values.
	Fetch time.Duration
}

// Total is the time spent in DuckDB: Load + Query + Fetch.
func (s Stats) Total() time.Duration { return s.Load + s.Query + s.Fetch }

// Engine runs model SQL over micro-batches in an in-memory DuckDB database.
// It is meant for one goroutine at a time (calls are serialised by a mutex);
// run one Engine per concurrent model. An error from Run or Describe leaves
// the Engine usable.
type Engine struct {
	mu     sync.Mutex
	db     *sql.DB
	conn   *sql.Conn
	in     *inputs
	closed bool
}

// Open creates an in-memory DuckDB database with one connection whose
// session time zone is UTC and that cannot read or write files.
func Open(opts Options) (*Engine, error) {
	if opts.Threads < 0 {
		return nil, fmt.Errorf("open duckdb: threads %d is negative", opts.Threads)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	in := &inputs{}
	duckdb.RegisterReplacementScan(connector, in.replacementScan)
	e := &Engine{db: sql.OpenDB(connector), in: in}
	ctx := context.Background()
	if e.conn, err = e.db.Conn(ctx); err != nil {
		_ = e.db.Close()
		return nil, fmt.Errorf("connect duckdb: %w", err)
	}
	if err := e.setup(ctx, opts); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Engine) setup(ctx context.Context, opts Options) error {
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return fmt.Errorf("register input function: %w", err)
	}
	fn := duckdb.ParallelChunkTableFunction{
		Config:        duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{varchar}},
		BindArguments: e.in.bind,
	}
	if err := duckdb.RegisterTableUDF(e.conn, inputFunc, fn); err != nil {
		return fmt.Errorf("register input function: %w", err)
	}
	setup := []string{"SET TimeZone = 'UTC'"}
	if opts.Threads > 0 {
		setup = append(setup, "SET threads = "+strconv.Itoa(opts.Threads))
	}
	if opts.MemoryLimit != "" {
		setup = append(setup, "SET memory_limit = "+quoteString(opts.MemoryLimit))
	}
	setup = append(setup, "SET enable_external_access = false")
	for _, q := range setup {
		if _, err := e.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("configure duckdb (%s): %w", q, err)
		}
	}
	// DuckDB's JSON type is VARCHAR with an alias that only a type read
	// back from DuckDB carries.
	return e.conn.Raw(func(dc any) error {
		stmt, err := dc.(*duckdb.Conn).PrepareContext(ctx, "SELECT CAST(NULL AS JSON)")
		if err != nil {
			return fmt.Errorf("json type: %w", err)
		}
		defer stmt.Close()
		e.in.jsonType, err = stmt.(*duckdb.Stmt).ColumnTypeInfo(0)
		return err
	})
}

// Close releases the connection and the database. It is safe to call twice.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var err error
	if e.conn != nil {
		err = e.conn.Close()
	}
	return errors.Join(err, e.db.Close())
}

// begin checks inputs and makes them the ones the SQL sees.
func (e *Engine) begin(inputs []Input) error {
	if e.closed {
		return ErrClosed
	}
	byName := make(map[string]*Input, len(inputs))
	for i := range inputs {
		in := &inputs[i]
		switch {
		case in.Table == "":
			return fmt.Errorf("%w: input %d has no table name", ErrLoad, i)
		case in.Schema == nil:
			return fmt.Errorf("%w: input %s has no schema", ErrLoad, in.Table)
		case byName[in.Table] != nil:
			return fmt.Errorf("%w: table %s given twice", ErrLoad, in.Table)
		}
		byName[in.Table] = in
	}
	e.in.byName = byName
	e.in.elapsed()
	return nil
}

// end forgets the inputs of the call.
func (e *Engine) end() { e.in.byName = nil }

// Run runs sql over inputs: each table name the SQL reads that is an
// Input.Table scans that input's rows (see source.go), then the result rows
// are read into Go values. Stats.Load is the time spent handing input rows
// to DuckDB, Query the rest of the execution. Errors from DuckDB wrap
// ErrQuery and carry DuckDB's message.
func (e *Engine) Run(ctx context.Context, sql string, inputs []Input) (*Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.begin(inputs); err != nil {
		return nil, err
	}
	defer e.end()
	res := &Result{}
	err := e.conn.Raw(func(dc any) error {
		conn := dc.(*duckdb.Conn)
		start := time.Now()
		stmt, cols, err := prepare(ctx, conn, sql)
		if err != nil {
			return err
		}
		defer stmt.Close()
		rows, err := stmt.QueryContext(ctx, nil)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrQuery, err)
		}
		res.Columns = cols
		res.Stats.Load = e.in.elapsed()
		res.Stats.Query = max(time.Since(start)-res.Stats.Load, 0)

		start = time.Now()
		res.Rows, err = fetch(rows, len(cols))
		if cerr := rows.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("%w: close rows: %w", ErrQuery, cerr)
		}
		res.Stats.Fetch = time.Since(start)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Describe returns the columns sql would produce over inputs (whose Rows
// may be empty), without running it.
func (e *Engine) Describe(ctx context.Context, sql string, inputs []Input) ([]OutputColumn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.begin(inputs); err != nil {
		return nil, err
	}
	defer e.end()
	var cols []OutputColumn
	err := e.conn.Raw(func(dc any) error {
		stmt, c, err := prepare(ctx, dc.(*duckdb.Conn), sql)
		if err != nil {
			return err
		}
		cols = c
		if err := stmt.Close(); err != nil {
			return fmt.Errorf("%w: close statement: %w", ErrQuery, err)
		}
		return nil
	})
	return cols, err
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
