package duck

import (
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// duckTypeName spells a DuckDB type like DuckDB's C API does, e.g. BIGINT,
// DECIMAL(18,2), TIMESTAMPTZ, JSON, VARCHAR[], STRUCT("a" INTEGER).
func duckTypeName(ti duckdb.TypeInfo) string {
	if ti.Alias() == "JSON" {
		return "JSON"
	}
	switch d := ti.Details().(type) {
	case *duckdb.DecimalDetails:
		return "DECIMAL(" + strconv.Itoa(int(d.Width)) + "," + strconv.Itoa(int(d.Scale)) + ")"
	case *duckdb.ListDetails:
		return duckTypeName(d.Child) + "[]"
	case *duckdb.ArrayDetails:
		return duckTypeName(d.Child) + "[" + strconv.FormatUint(d.Size, 10) + "]"
	case *duckdb.MapDetails:
		return "MAP(" + duckTypeName(d.Key) + ", " + duckTypeName(d.Value) + ")"
	case *duckdb.StructDetails:
		parts := make([]string, len(d.Entries))
		for i, e := range d.Entries {
			parts[i] = quoteIdent(e.Name()) + " " + duckTypeName(e.Info())
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	case *duckdb.UnionDetails:
		parts := make([]string, len(d.Members))
		for i, m := range d.Members {
			parts[i] = quoteIdent(m.Name) + " " + duckTypeName(m.Type)
		}
		return "UNION(" + strings.Join(parts, ", ") + ")"
	}
	return simpleTypeName(ti.InternalType())
}

func simpleTypeName(t duckdb.Type) string {
	switch t {
	case duckdb.TYPE_BOOLEAN:
		return "BOOLEAN"
	case duckdb.TYPE_TINYINT:
		return "TINYINT"
	case duckdb.TYPE_SMALLINT:
		return "SMALLINT"
	case duckdb.TYPE_INTEGER:
		return "INTEGER"
	case duckdb.TYPE_BIGINT:
		return "BIGINT"
	case duckdb.TYPE_UTINYINT:
		return "UTINYINT"
	case duckdb.TYPE_USMALLINT:
		return "USMALLINT"
	case duckdb.TYPE_UINTEGER:
		return "UINTEGER"
	case duckdb.TYPE_UBIGINT:
		return "UBIGINT"
	case duckdb.TYPE_FLOAT:
		return "FLOAT"
	case duckdb.TYPE_DOUBLE:
		return "DOUBLE"
	case duckdb.TYPE_TIMESTAMP:
		return "TIMESTAMP"
	case duckdb.TYPE_TIMESTAMP_S:
		return "TIMESTAMP_S"
	case duckdb.TYPE_TIMESTAMP_MS:
		return "TIMESTAMP_MS"
	case duckdb.TYPE_TIMESTAMP_NS:
		return "TIMESTAMP_NS"
	case duckdb.TYPE_TIMESTAMP_TZ:
		return "TIMESTAMPTZ"
	case duckdb.TYPE_DATE:
		return "DATE"
	case duckdb.TYPE_TIME:
		return "TIME"
	case duckdb.TYPE_TIME_TZ:
		return "TIMETZ"
	case duckdb.TYPE_INTERVAL:
		return "INTERVAL"
	case duckdb.TYPE_HUGEINT:
		return "HUGEINT"
	case duckdb.TYPE_UHUGEINT:
		return "UHUGEINT"
	case duckdb.TYPE_VARCHAR:
		return "VARCHAR"
	case duckdb.TYPE_BLOB:
		return "BLOB"
	case duckdb.TYPE_ENUM:
		return "ENUM"
	case duckdb.TYPE_UUID:
		return "UUID"
	case duckdb.TYPE_BIT:
		return "BIT"
	case duckdb.TYPE_BIGNUM:
		return "BIGNUM"
	case duckdb.TYPE_SQLNULL:
		return "NULL"
	case duckdb.TYPE_GEOMETRY:
		return "GEOMETRY"
	case duckdb.TYPE_VARIANT:
		return "VARIANT"
	}
	return "UNKNOWN"
}

// textCast is the SQL that turns a result column of type ti into text, ""
// when the column is fetched as it is: nested types become JSON text, the
// types without a plain Go value their DuckDB text.
func textCast(ti duckdb.TypeInfo, col string) string {
	if ti.Alias() == "JSON" {
		return "CAST(" + col + " AS VARCHAR)"
	}
	switch ti.InternalType() {
	case duckdb.TYPE_LIST, duckdb.TYPE_STRUCT, duckdb.TYPE_MAP, duckdb.TYPE_ARRAY, duckdb.TYPE_UNION:
		return "CAST(to_json(" + col + ") AS VARCHAR)"
	case duckdb.TYPE_UUID, duckdb.TYPE_INTERVAL, duckdb.TYPE_BIT, duckdb.TYPE_TIME_TZ, duckdb.TYPE_BIGNUM,
		duckdb.TYPE_HUGEINT, duckdb.TYPE_UHUGEINT, duckdb.TYPE_GEOMETRY, duckdb.TYPE_VARIANT:
		return "CAST(" + col + " AS VARCHAR)"
	}
	return ""
}

// quoteIdent quotes a SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
