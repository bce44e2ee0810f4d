package duck

import "errors"

var (
	// ErrSchema reports an Avro schema that cannot be parsed or mapped.
	ErrSchema = errors.New("unsupported avro schema")
	// ErrDecode reports an Avro body that does not match its writer schema.
	ErrDecode = errors.New("malformed avro body")
	// ErrEncode reports a result value that cannot be written as its Avro field.
	ErrEncode = errors.New("cannot encode value")
	// ErrQuery reports SQL that DuckDB rejected or failed to run; the DuckDB
	// message follows in the error text.
	ErrQuery = errors.New("model sql failed")
	// ErrLoad reports input rows DuckDB could not load into their table.
	ErrLoad = errors.New("load input failed")
	// ErrClosed reports use of an Engine after Close.
	ErrClosed = errors.New("engine closed")
)
