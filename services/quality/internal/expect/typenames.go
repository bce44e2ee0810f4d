package expect

import (
	"math/big"
	"strings"
	"time"
)

// goType is the class of Go value a type name stands for.
type goType uint8

const (
	gtString goType = iota + 1
	gtInt
	gtFloat
	gtBool
	gtTime
	gtDate
	gtDecimal
	gtBytes
)

// lookupType maps GE/pandas/numpy, Python, Avro, Spark and DuckDB type names
// (case-insensitive, parameters such as DECIMAL(18,2) ignored) to a class.
func lookupType(name string) (goType, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.IndexAny(n, "(["); i > 0 {
		n = strings.TrimSpace(n[:i])
	}
	n = strings.TrimSuffix(strings.TrimPrefix(n, "numpy."), "type")
	switch n {
	case "str", "string", "unicode", "str_", "varchar", "text", "char", "bpchar", "uuid", "enum", "stringdtype",
		"character varying", "nvarchar":
		return gtString, true
	case "int", "integer", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "long",
		"bigint", "smallint", "tinyint", "hugeint", "ubigint", "uinteger", "usmallint", "utinyint", "short",
		"byte", "int_", "int64dtype", "int32dtype":
		return gtInt, true
	case "float", "double", "float16", "float32", "float64", "real", "float4", "float8", "double precision",
		"float_", "float64dtype":
		return gtFloat, true
	case "bool", "boolean", "bool_", "logical", "booleandtype":
		return gtBool, true
	case "datetime", "datetime64", "datetime.datetime", "timestamp", "timestamptz", "timestamp with time zone",
		"timestamp without time zone", "timestamp_s", "timestamp_ms", "timestamp_ns", "timestamp_us",
		"timestamp-millis", "timestamp-micros", "timestamp-nanos", "local-timestamp-millis",
		"local-timestamp-micros", "datetimetz", "timestamp_ntz", "timestamp_ltz", "datetime64tz":
		return gtTime, true
	case "date", "date32", "datetime.date":
		return gtDate, true
	case "decimal", "numeric", "decimal.decimal", "number", "big-decimal":
		return gtDecimal, true
	case "bytes", "binary", "blob", "bytea", "varbinary", "fixed", "bytes_":
		return gtBytes, true
	}
	return 0, false
}

// typeOf returns the class of a non-null row value.
func typeOf(v any) goType {
	switch x := v.(type) {
	case string:
		return gtString
	case bool:
		return gtBool
	case float64, float32:
		return gtFloat
	case *big.Rat:
		return gtDecimal
	case []byte:
		return gtBytes
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return gtDate
		}
		return gtTime
	}
	if _, ok := toNum(v); ok {
		return gtInt
	}
	return 0
}

// isType reports whether a value of class got satisfies the named class
// want: any time value is a datetime, midnight times are dates too.
func isType(got, want goType) bool {
	return got == want || (want == gtTime && got == gtDate)
}

func compileTypes(list bool) func(Config) (Expectation, error) {
	return func(c Config) (Expectation, error) {
		return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
			var names []string
			arg := "type_"
			if list {
				arg = "type_list"
				names = k.strList(arg, true)
			} else {
				names = []string{k.str(arg, true)}
			}
			var want []goType
			for _, n := range names {
				t, ok := lookupType(n)
				if !ok && k.err == nil {
					k.fail(arg, "unknown type name %q", n)
				}
				want = append(want, t)
			}
			return func(v any) bool {
				got := typeOf(v)
				for _, w := range want {
					if isType(got, w) {
						return true
					}
				}
				return false
			}
		})
	}
}
