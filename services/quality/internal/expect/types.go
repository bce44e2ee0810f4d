package expect

import (
	"errors"
	"fmt"
)

// ErrUnknownExpectation reports an expectation type this package does not support.
var ErrUnknownExpectation = errors.New("unknown expectation")

// ErrKwarg reports a missing, unknown or ill-typed kwarg (including a bad
// regex, row_condition or mostly).
var ErrKwarg = errors.New("bad kwarg")

// ConfigError is the error Compile returns; it names the expectation, where
// it was declared and, when one kwarg is at fault, that kwarg.
type ConfigError struct {
	Source string // "file:line" from Config.Source, may be empty
	Type   string // the expectation type
	Kwarg  string // the offending kwarg, "" when not about one kwarg
	Err    error  // the cause, wrapping ErrUnknownExpectation or ErrKwarg
}

// Error formats the error as "source: type: cause".
func (e *ConfigError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("%s: %s: %v", e.Source, e.Type, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Type, e.Err)
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// Level says how much data an expectation needs to be decided.
type Level int

const (
	// Row expectations are decided per record.
	Row Level = iota
	// Set expectations need a window of records.
	Set
	// Table expectations look at the window's row count or columns.
	Table
)

// String returns the level's lower-case name.
func (l Level) String() string {
	switch l {
	case Row:
		return "row"
	case Set:
		return "set"
	case Table:
		return "table"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// Config is one expectation as declared in a suite.
type Config struct {
	Type   string         // expectation type, e.g. expect_column_values_to_match_regex
	Kwargs map[string]any // GE kwargs
	Meta   map[string]any // free-form meta, copied to results
	Source string         // "file:line" where declared, for errors
}

// Expectation is a compiled expectation.
type Expectation interface {
	Config() Config
	Level() Level
	Column() string // "" for table-level and multi-column expectations
}

// RowExpectation is decided per record. Check returns ok=true for nulls
// (unless the expectation is about nulls) and for rows outside the
// row_condition; otherwise unexpected is the offending value. Compiled
// expectations are immutable: Check is safe for concurrent use.
type RowExpectation interface {
	Expectation
	Check(row map[string]any) (ok bool, unexpected any)
}

// SetExpectation is decided over a window of records.
type SetExpectation interface {
	Expectation
	Validate(b *Batch) Result
}

// Batch is a window of records.
type Batch struct {
	Columns []string                   // column set; when empty, the union of the rows' keys
	Rows    []map[string]any           // records in arrival order
	Lookup  map[string]map[string]bool // key sets for dbt relationships, keyed "model.field"; keys made with Key
}

// columns returns the batch's column set.
func (b *Batch) columns() []string {
	if len(b.Columns) > 0 {
		return b.Columns
	}
	seen := map[string]bool{}
	var cols []string
	for _, r := range b.Rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	return cols
}

// Relationship is implemented by dbt relationships expectations so the gate
// can feed them the referenced model's keys.
type Relationship interface {
	SetExpectation
	ToModel() string
	Field() string
}
