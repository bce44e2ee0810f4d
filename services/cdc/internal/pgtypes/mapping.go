package pgtypes

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
)

// Built-in type OIDs mapped to something other than "string".
const (
	oidBool        = pgtype.BoolOID
	oidInt2        = pgtype.Int2OID
	oidInt4        = pgtype.Int4OID
	oidInt8        = pgtype.Int8OID
	oidOID         = pgtype.OIDOID
	oidFloat4      = pgtype.Float4OID
	oidFloat8      = pgtype.Float8OID
	oidNumeric     = pgtype.NumericOID
	oidBytea       = pgtype.ByteaOID
	oidDate        = pgtype.DateOID
	oidTime        = pgtype.TimeOID
	oidTimestamp   = pgtype.TimestampOID
	oidTimestamptz = pgtype.TimestamptzOID
	oidUUID        = pgtype.UUIDOID
)

// builtinMapping maps a base type by OID; types it does not list map to "string".
func builtinMapping(oid uint32, typmod int32, format string) Mapping {
	switch oid {
	case oidBool:
		return Mapping{Type: "boolean", SourceType: format, Decode: decodeBool}
	case oidInt2, oidInt4:
		return Mapping{Type: "int", SourceType: format, Decode: decodeInt32}
	case oidInt8:
		return Mapping{Type: "long", SourceType: format, Decode: decodeInt64}
	case oidOID:
		return Mapping{Type: "long", SourceType: format, Decode: decodeOID}
	case oidFloat4:
		return Mapping{Type: "float", SourceType: format, Decode: decodeFloat32}
	case oidFloat8:
		return Mapping{Type: "double", SourceType: format, Decode: decodeFloat64}
	case oidNumeric:
		return numericMapping(typmod, format)
	case oidBytea:
		return Mapping{Type: "bytes", SourceType: format, Decode: decodeBytea}
	case oidDate:
		return Mapping{Type: map[string]any{"type": "int", "logicalType": "date"}, SourceType: format, Decode: decodeDate}
	case oidTime:
		return Mapping{Type: map[string]any{"type": "long", "logicalType": "time-micros"}, SourceType: format, Decode: decodeTime}
	case oidTimestamp:
		return Mapping{Type: map[string]any{"type": "long", "logicalType": "timestamp-micros"}, SourceType: format, Decode: decodeTimestamp}
	case oidTimestamptz:
		return Mapping{Type: map[string]any{"type": "long", "logicalType": "timestamp-micros"}, SourceType: format, Decode: decodeTimestamptz}
	case oidUUID:
		return Mapping{Type: map[string]any{"type": "string", "logicalType": "uuid"}, SourceType: format, Decode: decodeString}
	default:
		return stringMapping(format)
	}
}

// numericMapping maps numeric(p,s) to an Avro decimal and unconstrained numeric to the
// VariableScaleDecimal record.
func numericMapping(typmod int32, format string) Mapping {
	if typmod < 4 { // VARHDRSZ: no precision given
		return Mapping{Type: VariableScaleDecimalSchema(), SourceType: format, Decode: decodeVariableNumeric}
	}
	mod := typmod - 4
	precision := (mod >> 16) & 0xffff
	scale := ((mod & 0x7ff) ^ 1024) - 1024 // 11-bit signed since PostgreSQL 15
	if precision < 1 {
		return Mapping{Type: VariableScaleDecimalSchema(), SourceType: format, Decode: decodeVariableNumeric}
	}
	ap, as := precision, scale
	switch {
	case scale < 0: // numeric(3,-1) holds 99990: integers of p-s digits
		ap, as = precision-scale, 0
	case scale > precision: // numeric(2,5) holds 0.00099
		ap = scale
	}
	return Mapping{
		Type:       map[string]any{"type": "bytes", "logicalType": "decimal", "precision": int(ap), "scale": int(as)},
		SourceType: format,
		Decode:     decimalDecoder(ap, as),
	}
}

func stringMapping(format string) Mapping {
	return Mapping{Type: "string", SourceType: format, Decode: decodeString}
}

func enumMapping(format string, labels []string) Mapping {
	ls := make([]any, len(labels))
	for i, l := range labels {
		ls[i] = l
	}
	return Mapping{
		Type:       map[string]any{"type": "string", "riacho.enum": format, "riacho.labels": ls},
		SourceType: format,
		Decode:     decodeString,
	}
}

func arrayMapping(format string, el *entry) Mapping {
	elem := el.m.Decode
	delim := el.delim
	return Mapping{
		Type:       map[string]any{"type": "array", "items": []any{"null", el.m.Type}},
		SourceType: format,
		Decode: func(text []byte) (any, error) {
			v, err := parseArray(text, delim, elem)
			if err != nil {
				return nil, fmt.Errorf("array %s: %w", format, err)
			}
			return v, nil
		},
	}
}
