package duck

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Inputs reach DuckDB without a table: a replacement scan turns every table
// name the SQL reads that is an input of the current call into a call of
// the table function inputFunc, whose chunks are filled straight from
// Input.Rows. Nothing is copied into DuckDB storage, no DDL runs per batch,
// only the columns the SQL uses are filled, and a new InputSchema for the
// same table simply binds differently on the next call.
const inputFunc = "__riacho_input"

// inputs are the inputs of the call in progress, by table name.
type inputs struct {
	byName   map[string]*Input
	jsonType duckdb.TypeInfo
	fill     atomic.Int64 // nanoseconds spent filling chunks
}

// lookup finds the input named table; like DuckDB identifiers, case does
// not matter when there is no exact match.
func (in *inputs) lookup(table string) *Input {
	if i, ok := in.byName[table]; ok {
		return i
	}
	for name, i := range in.byName {
		if strings.EqualFold(name, table) {
			return i
		}
	}
	return nil
}

// replacementScan resolves a table name the catalog does not know.
func (in *inputs) replacementScan(table string) (string, []any, error) {
	if i := in.lookup(table); i != nil {
		return inputFunc, []any{i.Table}, nil
	}
	return "", nil, fmt.Errorf("table %s does not exist: it is not an input of this call", table)
}

// bind creates the scan of one input.
func (in *inputs) bind(_ map[string]any, args ...any) (src duckdb.ParallelChunkTableSource, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bind input: panic: %v", r)
		}
	}()
	name, _ := args[0].(string)
	i := in.lookup(name)
	if i == nil {
		return nil, fmt.Errorf("table %s is not an input of this call", name)
	}
	cols := make([]duckdb.ColumnInfo, len(i.Schema.Columns))
	for c, col := range i.Schema.Columns {
		ti := i.Schema.infos[c]
		if ti == nil {
			ti = in.jsonType
		}
		cols[c] = duckdb.ColumnInfo{Name: col.Name, T: ti}
	}
	return &inputSource{in: i, cols: cols, fill: &in.fill}, nil
}

// inputSource scans one input. It runs on one thread; the read position is
// the thread's local state, so every scan of the same input (a self-join,
// a CTE read twice) reads all rows.
type inputSource struct {
	in   *Input
	cols []duckdb.ColumnInfo
	fill *atomic.Int64
}

// cursor is the read position of one scan.
type cursor struct{ next int }

// ColumnInfos returns the input's columns.
func (s *inputSource) ColumnInfos() []duckdb.ColumnInfo { return s.cols }

// Cardinality returns the exact row count.
func (s *inputSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.in.Rows)), Exact: true}
}

// Init limits each scan to one thread, which keeps the cursor local.
func (s *inputSource) Init() duckdb.ParallelTableSourceInfo {
	return duckdb.ParallelTableSourceInfo{MaxThreads: 1}
}

// NewLocalState starts a scan at the first row.
func (s *inputSource) NewLocalState() any { return &cursor{} }

// FillChunk copies the next rows into ch. An error (a row whose values do
// not fit its columns) fails the query.
func (s *inputSource) FillChunk(state any, ch duckdb.DataChunk) (err error) {
	start := time.Now()
	cur := state.(*cursor)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("input %s: panic: %v", s.in.Table, r)
		}
		s.fill.Add(int64(time.Since(start)))
	}()
	end := min(cur.next+duckdb.GetDataChunkCapacity(), len(s.in.Rows))
	rows := s.in.Rows[cur.next:end]
	ncol := len(s.cols)
	for i, row := range rows {
		if len(row) != ncol {
			return fmt.Errorf("input %s row %d: %d values for %d columns", s.in.Table, cur.next+i, len(row), ncol)
		}
		for c, v := range row {
			if err := ch.SetValue(c, i, v); err != nil {
				return fmt.Errorf("input %s row %d column %s: %w", s.in.Table, cur.next+i, s.cols[c].Name, err)
			}
		}
	}
	cur.next = end
	return ch.SetSize(len(rows))
}

// elapsed returns the fill time since the last call.
func (in *inputs) elapsed() time.Duration {
	return time.Duration(in.fill.Swap(0))
}
