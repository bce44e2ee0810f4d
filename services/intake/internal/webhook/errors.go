package webhook

import "errors"

// Errors callers test with errors.Is to choose an HTTP status.
var (
	// ErrMissingSignature means the X-Hub-Signature-256 header is absent or empty (401).
	ErrMissingSignature = errors.New("missing signature")
	// ErrBadSignature means the signature header is malformed or does not match the body (401).
	ErrBadSignature = errors.New("bad signature")
	// ErrBadVerifyToken means a Meta hub verification request is not a valid subscribe with our token (403).
	ErrBadVerifyToken = errors.New("bad verify token")
	// ErrMissingValidationKey means a Ploomes request carries no validation key (401).
	ErrMissingValidationKey = errors.New("missing validation key")
	// ErrBadValidationKey means a Ploomes validation key does not match (401).
	ErrBadValidationKey = errors.New("bad validation key")
	// ErrMalformed means the body is not valid JSON or lacks a field the event cannot exist without (400).
	ErrMalformed = errors.New("malformed payload")
	// ErrUnsupportedObject means a Meta webhook body has an object other than the expected one (400).
	ErrUnsupportedObject = errors.New("unsupported webhook object")
	// ErrBadName means a source or entity name does not match ^[a-z][a-z0-9_]{0,62}$.
	ErrBadName = errors.New("bad name")
	// ErrBadUpload means a whole upload is unusable: empty, no header, not CSV/XLSX, or bad options (400).
	ErrBadUpload = errors.New("bad upload")
	// ErrTooManyRows means an upload has more data rows than UploadOptions.MaxRows (413).
	ErrTooManyRows = errors.New("too many rows")
)
