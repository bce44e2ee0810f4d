package control

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// controlService implements controlv1.ControlServer over a State and Hooks.
type controlService struct {
	controlv1.UnimplementedControlServer
	state *State
	hooks Hooks
}

// Status implements controlv1.ControlServer.
func (c *controlService) Status(ctx context.Context, _ *controlv1.StatusRequest) (*controlv1.StatusResponse, error) {
	resp := c.state.Status()
	if c.hooks.Status != nil {
		c.hooks.Status(ctx, resp)
	}
	return resp, nil
}

// Pause implements controlv1.ControlServer.
func (c *controlService) Pause(ctx context.Context, req *controlv1.PauseRequest) (*controlv1.PauseResponse, error) {
	if c.hooks.Pause == nil {
		return nil, status.Error(codes.Unimplemented, "this service does not support Pause")
	}
	if err := c.hooks.Pause(ctx, req.GetReason()); err != nil {
		return nil, toStatus("pause", err)
	}
	c.state.Set(controlv1.State_STATE_PAUSED)
	c.state.SetDetail(DetailPausedReason, req.GetReason())
	c.state.SetDetail(DetailPausedBy, callerFrom(ctx))
	c.state.SetDetail(DetailPausedAt, c.state.now().UTC().Format(time.RFC3339))
	return &controlv1.PauseResponse{State: c.state.Get()}, nil
}

// Resume implements controlv1.ControlServer.
func (c *controlService) Resume(ctx context.Context, _ *controlv1.ResumeRequest) (*controlv1.ResumeResponse, error) {
	if c.hooks.Resume == nil {
		return nil, status.Error(codes.Unimplemented, "this service does not support Resume")
	}
	if err := c.hooks.Resume(ctx); err != nil {
		return nil, toStatus("resume", err)
	}
	c.state.Set(controlv1.State_STATE_RUNNING)
	for _, k := range []string{DetailPausedReason, DetailPausedBy, DetailPausedAt} {
		c.state.SetDetail(k, "")
	}
	return &controlv1.ResumeResponse{State: c.state.Get()}, nil
}

// Reload implements controlv1.ControlServer.
func (c *controlService) Reload(ctx context.Context, _ *controlv1.ReloadRequest) (*controlv1.ReloadResponse, error) {
	if c.hooks.Reload == nil {
		return nil, status.Error(codes.Unimplemented, "this service does not support Reload")
	}
	summary, err := c.hooks.Reload(ctx)
	if err != nil {
		return nil, toStatus("reload", err)
	}
	return &controlv1.ReloadResponse{Summary: summary}, nil
}

// Command implements controlv1.ControlServer.
func (c *controlService) Command(ctx context.Context, req *controlv1.CommandRequest) (*controlv1.CommandResponse, error) {
	if len(c.hooks.Commands) == 0 {
		return nil, status.Error(codes.Unimplemented, "this service has no commands")
	}
	name := req.GetName()
	if name == "" {
		return nil, status.Error(codes.InvalidArgument, "command name is empty")
	}
	fn, ok := c.hooks.Commands[name]
	if !ok || fn == nil {
		return nil, status.Errorf(codes.NotFound, "unknown command %q (available: %s)",
			name, strings.Join(slices.Sorted(maps.Keys(c.hooks.Commands)), ", "))
	}
	args := req.GetArgs()
	if args == nil {
		args = map[string]string{}
	}
	resp, err := fn(ctx, args)
	if err != nil {
		return nil, toStatus("command "+name, err)
	}
	if resp == nil {
		resp = &controlv1.CommandResponse{}
	}
	return resp, nil
}

// toStatus turns a hook error into a gRPC status error.
func toStatus(op string, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, ErrFailedPrecondition):
		code = codes.FailedPrecondition
	}
	return status.Error(code, fmt.Sprintf("%s: %v", op, err))
}
