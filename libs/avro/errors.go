package avro

import (
	"errors"
	"fmt"
)

// Confluent error codes that callers commonly test, through errors.Is on a
// *RegistryError.
var (
	// ErrSubjectNotFound is error code 40401.
	ErrSubjectNotFound = errors.New("schema registry: subject not found")
	// ErrVersionNotFound is error code 40402.
	ErrVersionNotFound = errors.New("schema registry: version not found")
	// ErrSchemaNotFound is error code 40403.
	ErrSchemaNotFound = errors.New("schema registry: schema not found")
	// ErrIncompatible is HTTP 409 (error code 409 or 40901): the schema
	// breaks the subject's compatibility rule.
	ErrIncompatible = errors.New("schema registry: incompatible schema")
	// ErrInvalidSchema is error code 42201.
	ErrInvalidSchema = errors.New("schema registry: invalid schema")
)

// Confluent error codes.
const (
	CodeSubjectNotFound = 40401
	CodeVersionNotFound = 40402
	CodeSchemaNotFound  = 40403
	CodeIncompatible    = 40901
	CodeInvalidSchema   = 42201
)

// RegistryError is an error answer from the schema registry.
type RegistryError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the registry's error_code (0 when the body had none).
	Code int
	// Message is the registry's message, or the start of a non-JSON body.
	Message string
}

// Error implements error.
func (e *RegistryError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("schema registry: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("schema registry: HTTP %d, error %d: %s", e.Status, e.Code, e.Message)
}

// Is matches the Err* sentinels by error code.
func (e *RegistryError) Is(target error) bool {
	switch target {
	case ErrSubjectNotFound:
		return e.Code == CodeSubjectNotFound
	case ErrVersionNotFound:
		return e.Code == CodeVersionNotFound
	case ErrSchemaNotFound:
		return e.Code == CodeSchemaNotFound
	case ErrIncompatible:
		return e.Code == CodeIncompatible || e.Code == 409 || (e.Code == 0 && e.Status == 409)
	case ErrInvalidSchema:
		return e.Code == CodeInvalidSchema
	}
	return false
}

// retryable reports whether a request that got e may succeed if repeated.
func (e *RegistryError) retryable() bool { return e.Status >= 500 || e.Status == 429 }
