package registry

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes of the Confluent Schema Registry REST API used by this server.
// The HTTP status of an error is its first three digits.
const (
	// CodeSubjectNotFound means the subject has no (live) version.
	CodeSubjectNotFound = 40401
	// CodeVersionNotFound means the subject has no such (live) version.
	CodeVersionNotFound = 40402
	// CodeSchemaNotFound means no schema has that id, or the subject lacks that schema.
	CodeSchemaNotFound = 40403
	// CodeSubjectSoftDeleted means the subject is already soft deleted.
	CodeSubjectSoftDeleted = 40404
	// CodeSubjectNotSoftDeleted means a permanent delete came before the soft delete.
	CodeSubjectNotSoftDeleted = 40405
	// CodeVersionSoftDeleted means the version is already soft deleted.
	CodeVersionSoftDeleted = 40406
	// CodeVersionNotSoftDeleted means a permanent version delete came before the soft delete.
	CodeVersionNotSoftDeleted = 40407
	// CodeSubjectLevelNotConfigured means the subject has no compatibility level of its own.
	CodeSubjectLevelNotConfigured = 40408
	// CodeIncompatibleSchema means the schema breaks the subject's compatibility level.
	CodeIncompatibleSchema = 409
	// CodeInvalidSchema means the schema is not valid Avro (or not AVRO at all).
	CodeInvalidSchema = 42201
	// CodeInvalidVersion means a version is neither a positive 32-bit integer nor "latest".
	CodeInvalidVersion = 42202
	// CodeInvalidCompatibilityLevel means a level is not one of Levels.
	CodeInvalidCompatibilityLevel = 42203
	// CodeStoreError means the Kafka store failed or is not loaded yet.
	CodeStoreError = 50001

	codeBadRequest       = 400
	codeNotFound         = 404
	codeMethodNotAllowed = 405
	codeRequestTooLarge  = 413
	codeInternal         = 500
)

// Sentinel errors returned by the Go API.
var (
	// ErrTopicMisconfigured means the registry topic exists with more than one
	// partition or without cleanup.policy=compact.
	ErrTopicMisconfigured = errors.New("registry topic misconfigured")
	// ErrStarted means Start or Run was called on a registry that was already started.
	ErrStarted = errors.New("registry already started")
	// ErrClosed means the registry was closed.
	ErrClosed = errors.New("registry closed")
)

// Error is the JSON error body of the REST API: {"error_code": N, "message": "..."}.
type Error struct {
	// Code is the Confluent error code, such as 40401.
	Code int `json:"error_code"`
	// Message describes the problem for people.
	Message string `json:"message"`
}

// Error returns the message with its code.
func (e *Error) Error() string { return fmt.Sprintf("schema registry error %d: %s", e.Code, e.Message) }

// HTTPStatus returns the HTTP status that carries e: the first three digits of
// a five-digit code, the code itself otherwise.
func (e *Error) HTTPStatus() int {
	c := e.Code
	for c >= 1000 {
		c /= 10
	}
	if c < 100 || c > 599 {
		return http.StatusInternalServerError
	}
	return c
}

// apiErr builds an *Error with a formatted message.
func apiErr(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func errSubjectNotFound(subject string) *Error {
	return apiErr(CodeSubjectNotFound, "Subject '%s' not found.", subject)
}

func errVersionNotFound(subject string, version int) *Error {
	return apiErr(CodeVersionNotFound, "Version %d not found for subject '%s'.", version, subject)
}

func errSchemaNotFound() *Error { return apiErr(CodeSchemaNotFound, "Schema not found") }

func errStore(err error) *Error {
	return apiErr(CodeStoreError, "Error while writing to the Kafka store: %v", err)
}
