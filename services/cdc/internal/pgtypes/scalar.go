package pgtypes

import (
	"errors"
	"strconv"
)

func decodeString(text []byte) (any, error) { return string(text), nil }

func decodeBool(text []byte) (any, error) {
	switch string(text) {
	case "t", "true":
		return true, nil
	case "f", "false":
		return false, nil
	}
	return nil, malformed("boolean", text, "want t or f")
}

func decodeInt32(text []byte) (any, error) {
	v, err := strconv.ParseInt(string(text), 10, 32)
	if err != nil {
		return nil, malformed("integer", text, reason(err))
	}
	return int32(v), nil
}

func decodeInt64(text []byte) (any, error) {
	v, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return nil, malformed("bigint", text, reason(err))
	}
	return v, nil
}

func decodeOID(text []byte) (any, error) {
	v, err := strconv.ParseUint(string(text), 10, 32)
	if err != nil {
		return nil, malformed("oid", text, reason(err))
	}
	return int64(v), nil
}

// decodeFloat32 parses float4 text; NaN, Infinity and -Infinity are valid Avro floats.
func decodeFloat32(text []byte) (any, error) {
	v, err := strconv.ParseFloat(string(text), 32)
	if err != nil {
		return nil, malformed("real", text, reason(err))
	}
	return float32(v), nil
}

// decodeFloat64 parses float8 text; NaN, Infinity and -Infinity are valid Avro doubles.
func decodeFloat64(text []byte) (any, error) {
	v, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return nil, malformed("double precision", text, reason(err))
	}
	return v, nil
}

// reason is a strconv error without the input text it repeats.
func reason(err error) string {
	if ne, ok := errors.AsType[*strconv.NumError](err); ok {
		return ne.Err.Error()
	}
	return err.Error()
}
