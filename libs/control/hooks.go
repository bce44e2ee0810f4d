package control

import (
	"context"
	"errors"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// CommandFunc runs one service-specific verb with its arguments.
type CommandFunc func(ctx context.Context, args map[string]string) (*controlv1.CommandResponse, error)

// Hooks are the service's implementations of the Control calls. A nil hook
// (or an empty Commands map) makes the call answer codes.Unimplemented.
//
// Hook errors become gRPC status codes: a gRPC status error keeps its code,
// errors wrapping ErrInvalidArgument, ErrNotFound or ErrFailedPrecondition map
// to the matching code, context errors to Canceled or DeadlineExceeded, and
// anything else to Internal.
type Hooks struct {
	// Pause stops taking new work; on success the State becomes STATE_PAUSED.
	Pause func(ctx context.Context, reason string) error
	// Resume undoes Pause; on success the State becomes STATE_RUNNING.
	Resume func(ctx context.Context) error
	// Reload re-reads content files and says what was reloaded.
	Reload func(ctx context.Context) (summary string, err error)
	// Status adds service facts (lag, rates, details) to the response built from State.
	Status func(ctx context.Context, resp *controlv1.StatusResponse)
	// Commands are the service's own verbs by name.
	Commands map[string]CommandFunc
}

// Errors a hook can wrap to choose the gRPC code of its failure.
var (
	// ErrInvalidArgument marks a bad command argument (codes.InvalidArgument).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound marks a missing object, such as an unknown table (codes.NotFound).
	ErrNotFound = errors.New("not found")
	// ErrFailedPrecondition marks a call the service cannot take in its current
	// state, such as resuming a service that is not paused (codes.FailedPrecondition).
	ErrFailedPrecondition = errors.New("failed precondition")
)
