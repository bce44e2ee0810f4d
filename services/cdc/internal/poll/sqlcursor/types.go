package sqlcursor

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/poll"
)

// kind is how a column's values are converted.
type kind int

const (
	kString kind = iota
	kLong
	kDouble
	kBool
	kDecimal  // fixed precision and scale
	kVarScale // numeric without a declared scale
	kDate
	kTimestamp
	kBytes
	kUUID
)

// column is one captured column and its Avro mapping.
type column struct {
	name      string
	dbType    string
	kind      kind
	precision int
	scale     int
}

// varScaleType is the Avro record of a numeric without a declared scale.
func varScaleType() map[string]any {
	return map[string]any{
		"type": "record", "name": "VariableScaleDecimal", "namespace": "riacho.data",
		"fields": []any{
			map[string]any{"name": "scale", "type": "int"},
			map[string]any{"name": "value", "type": "bytes"},
		},
	}
}

// avro is the column's Avro type (the non-null branch).
func (c column) avro() any {
	switch c.kind {
	case kLong:
		return "long"
	case kDouble:
		return "double"
	case kBool:
		return "boolean"
	case kDecimal:
		return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": c.precision, "scale": c.scale}
	case kVarScale:
		return varScaleType()
	case kDate:
		return map[string]any{"type": "int", "logicalType": "date"}
	case kTimestamp:
		return map[string]any{"type": "long", "logicalType": "timestamp-micros"}
	case kBytes:
		return "bytes"
	case kUUID:
		return map[string]any{"type": "string", "logicalType": "uuid"}
	}
	return "string"
}

// mapColumn chooses the Avro mapping of a result column from its database
// type name (pgx and go-sql-driver/mysql spellings); unknown types are
// captured as their text.
func mapColumn(ct *sql.ColumnType) column {
	c := column{name: ct.Name(), dbType: strings.ToUpper(ct.DatabaseTypeName())}
	switch c.dbType {
	case "INT2", "INT4", "INT8", "SMALLINT", "INTEGER", "BIGINT", "INT", "TINYINT", "MEDIUMINT", "YEAR",
		"UNSIGNED TINYINT", "UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED INT", "OID":
		c.kind = kLong
	case "UNSIGNED BIGINT":
		c.kind, c.precision, c.scale = kDecimal, 20, 0
	case "FLOAT4", "FLOAT8", "FLOAT", "DOUBLE", "REAL":
		c.kind = kDouble
	case "BOOL", "BOOLEAN":
		c.kind = kBool
	case "NUMERIC", "DECIMAL":
		p, s, ok := ct.DecimalSize()
		// PostgreSQL's numeric without a type modifier reports nonsense.
		if ok && p >= 1 && p <= 1000 && s >= 0 && s <= p {
			c.kind, c.precision, c.scale = kDecimal, int(p), int(s)
		} else {
			c.kind = kVarScale
		}
	case "DATE":
		c.kind = kDate
	case "TIMESTAMP", "TIMESTAMPTZ", "DATETIME":
		c.kind = kTimestamp
	case "BYTEA", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "BIT":
		c.kind = kBytes
	case "UUID":
		c.kind = kUUID
	default:
		c.kind = kString
	}
	return c
}

// convert turns a driver value into the Go form of the column's Avro type.
func (c column) convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.kind {
	case kLong:
		switch x := v.(type) {
		case int64:
			return x, nil
		case uint64:
			if x > math.MaxInt64 {
				return nil, fmt.Errorf("%d does not fit a long", x)
			}
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
		n, err := strconv.ParseInt(text(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not an integer: %w", err)
		}
		return n, nil
	case kDouble:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		}
		f, err := strconv.ParseFloat(text(v), 64)
		if err != nil {
			return nil, fmt.Errorf("not a number: %w", err)
		}
		return f, nil
	case kBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
		b, err := strconv.ParseBool(text(v))
		if err != nil {
			return nil, fmt.Errorf("not a boolean: %w", err)
		}
		return b, nil
	case kDecimal:
		return poll.ParseDecimal(text(v), c.precision, c.scale)
	case kVarScale:
		return variableScale(text(v))
	case kDate:
		t, ok := v.(time.Time)
		if !ok {
			d, err := poll.ParseDate(text(v))
			return d, err
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case kTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			return poll.ParseTimestamp(text(v), time.UTC)
		}
		return t.UTC(), nil
	case kBytes:
		switch x := v.(type) {
		case []byte:
			return append([]byte(nil), x...), nil
		case string:
			return []byte(x), nil
		}
		return nil, fmt.Errorf("%T is not bytes", v)
	}
	return text(v), nil
}

// text is the text of a driver value.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// variableScale encodes a decimal text as the VariableScaleDecimal record:
// the scale and the unscaled value in two's complement, big-endian.
func variableScale(s string) (map[string]any, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimLeft(s, "+-")
	ip, fp, _ := strings.Cut(digits, ".")
	if ip == "" && fp == "" || strings.Trim(ip+fp, "0123456789") != "" || len(fp) > math.MaxInt16 {
		return nil, fmt.Errorf("%.40q is not a finite decimal", s)
	}
	unscaled, ok := new(big.Int).SetString("0"+ip+fp, 10)
	if !ok {
		return nil, errors.New("not a decimal")
	}
	if neg {
		unscaled.Neg(unscaled)
	}
	return map[string]any{"scale": int32(len(fp)), "value": twosComplement(unscaled)}, nil //nolint:gosec // len(fp) <= MaxInt16, checked above
}

// twosComplement is x's minimal big-endian two's complement encoding.
func twosComplement(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := (x.BitLen() + 8) / 8 // room for the sign bit
	mod := new(big.Int).Lsh(big.NewInt(1), uint(n*8))
	b := new(big.Int).Add(mod, x).Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	// Drop redundant leading 0xff bytes.
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

// param is the form of a key value passed back as a query parameter:
// decimals as their exact text.
func (c column) param(v any) any {
	switch x := v.(type) {
	case *big.Rat:
		return x.FloatString(c.scale)
	case map[string]any:
		if sc, ok := x["scale"].(int32); ok {
			if b, ok := x["value"].([]byte); ok {
				return fromTwos(b, int(sc))
			}
		}
	}
	return v
}

func fromTwos(b []byte, scale int) string {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	r := new(big.Rat).SetFrac(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	return r.FloatString(scale)
}
