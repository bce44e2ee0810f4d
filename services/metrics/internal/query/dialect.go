package query

import (
	"strings"

	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// The only places the two dialects differ. Both accept $n placeholders,
// date_trunc (weeks start on Monday), CAST, window functions,
// percentile_cont … WITHIN GROUP, IS NOT DISTINCT FROM and LIMIT.

// q quotes an identifier. Identifiers are validated before they get here;
// doubling quotes keeps this safe regardless.
func q(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// sqlType renders a value type.
func sqlType(d store.Dialect, t warehouse.Type) string { return t.SQL(d) }

// series expands one row (lo, hi timestamps) into a row per step:
// PostgreSQL's generate_series is a set-returning function; DuckDB's
// returns a list, unnested.
func series(d store.Dialect, lo, hi, step string) string {
	g := "generate_series(" + lo + ", " + hi + ", " + step + ")"
	if d == store.DuckDB {
		return "unnest(" + g + ")"
	}
	return g
}

// orderKey makes text sort bytewise on both engines: PostgreSQL sorts by the
// database collation unless told "C"; DuckDB sorts bytewise already.
func orderKey(d store.Dialect, expr string, t warehouse.Type) string {
	if d == store.Postgres && t.Base == "text" {
		return expr + ` COLLATE "C"`
	}
	return expr
}
