package pgtypes

import (
	"errors"
	"fmt"
)

// ErrNotRepresentable is wrapped by Decode errors for values PostgreSQL accepts but the
// column's Avro type cannot carry (numeric NaN/Infinity, infinite dates and timestamps,
// multi-dimensional arrays, ...). The caller decides what to do with the row (dead-letter
// it, or write null).
var ErrNotRepresentable = errors.New("value not representable in avro")

// ErrMalformed is wrapped by Decode errors for text that is not a value of the type as
// PostgreSQL prints it (for example a date in a DateStyle other than ISO).
var ErrMalformed = errors.New("malformed value text")

// NotRepresentableError describes a value that cannot be written with its column's Avro
// type. errors.Is(err, ErrNotRepresentable) holds for it.
type NotRepresentableError struct {
	Type   string // PostgreSQL type, e.g. "numeric", "timestamp with time zone", "array"
	Text   string // the value's text
	Reason string // why it cannot be represented
}

// Error implements error; long values are shortened.
func (e *NotRepresentableError) Error() string {
	return fmt.Sprintf("%s value %q not representable in avro: %s", e.Type, shorten(e.Text), e.Reason)
}

// Unwrap returns ErrNotRepresentable.
func (e *NotRepresentableError) Unwrap() error { return ErrNotRepresentable }

func notRepresentable(typ string, text []byte, reason string) error {
	return &NotRepresentableError{Type: typ, Text: string(text), Reason: reason}
}

func malformed(typ string, text []byte, reason string) error {
	return fmt.Errorf("%w: %s %q: %s", ErrMalformed, typ, shorten(string(text)), reason)
}

func shorten(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
