// Package warehouse declares the star schema the metrics service loads
// curated topics into (warehouse.yml), and loads it exactly once.
package warehouse

import (
	"fmt"

	"github.com/riacho/riacho/services/metrics/internal/store"
)

// Kind says whether a table is a fact or a dimension.
type Kind string

// Table kinds.
const (
	Fact      Kind = "fact"
	Dimension Kind = "dimension"
)

// Schema is a parsed warehouse.yml: the tables, and the rollups kept for frequent KPIs.
type Schema struct {
	Tables  []*Table
	Rollups []Rollup
}

// Table returns the table named name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Table is one warehouse table fed by one curated topic.
type Table struct {
	Name  string // SQL table name; also the dbt model name metrics refer to with ref('name')
	Kind  Kind
	Topic string // e.g. curated.fct_subscriptions
	// Key is the unique key. A fact with a key is upserted by it (last record
	// wins); a fact without a key is append-only (COPY). A dimension needs one.
	Key []string
	// EventTime is the column whose newest value is the table's freshness.
	EventTime string
	// SCD is 1 (overwrite, the default) or 2 (history rows with valid_from,
	// valid_to and is_current) for dimensions; facts have 0.
	SCD     int
	Columns []Column
	Joins   []Join // facts only: the dimensions a metric may group by
	File    string
	Line    int
}

// Column returns the column named name, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// Column is one table column and where its value comes from in the record.
type Column struct {
	Name string
	Type Type
	// Field is the Avro record field the value is read from (default: Name).
	Field string
}

// Type is a portable column type.
type Type struct {
	// Base is one of text, integer, bigint, double, boolean, date, timestamp, numeric.
	Base             string
	Precision, Scale int // numeric only
}

// SQL renders the type in a dialect.
func (t Type) SQL(d store.Dialect) string {
	switch t.Base {
	case "text":
		if d == store.DuckDB {
			return "VARCHAR"
		}
		return "text"
	case "integer":
		return "integer"
	case "bigint":
		return "bigint"
	case "double":
		return "double precision"
	case "boolean":
		return "boolean"
	case "date":
		return "date"
	case "timestamp":
		if d == store.DuckDB {
			return "TIMESTAMPTZ"
		}
		return "timestamptz"
	case "numeric":
		if d == store.DuckDB {
			return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
		}
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	}
	return t.Base
}

// Join links a fact column to a dimension's key. A metric on the fact may
// then use the dimension's columns as dimensions, named "<dimension>.<column>"
// or by the bare column name when no fact column has it.
type Join struct {
	Dimension string // dimension table name
	Column    string // fact column holding the dimension's key
	// AsOf, for a type 2 dimension, is the fact column (date or timestamp) whose
	// value picks the dimension version valid then; empty joins the current version.
	AsOf string
}

// Rollup is a pre-aggregated table kept for a frequent KPI: one metric at
// one grain over a set of dimensions.
type Rollup struct {
	Name       string // table name, e.g. rollup_mrr_month_segment
	Metric     string
	Grain      string
	Dimensions []string
	File       string
	Line       int
}
