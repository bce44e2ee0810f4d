package cli

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// dial opens a lazy plaintext connection to addr.
func dial(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	return conn, nil
}

// callCtx bounds a call by the timeout and attaches the bearer token.
func callCtx(ctx context.Context, o options) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	if o.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+o.token)
	}
	return ctx, cancel
}

// invoke runs o.command against conn and returns the response message.
func invoke(ctx context.Context, conn *grpc.ClientConn, o options) (proto.Message, error) {
	ctx, cancel := callCtx(ctx, o)
	defer cancel()
	c := controlv1.NewControlClient(conn)
	switch o.command {
	case "status":
		return c.Status(ctx, &controlv1.StatusRequest{})
	case "pause":
		return c.Pause(ctx, &controlv1.PauseRequest{Reason: strings.Join(o.args, " ")})
	case "resume":
		return c.Resume(ctx, &controlv1.ResumeRequest{})
	case "reload":
		return c.Reload(ctx, &controlv1.ReloadRequest{})
	case "command":
		args, err := parseKV(o.args[1:])
		if err != nil {
			return nil, err
		}
		return c.Command(ctx, &controlv1.CommandRequest{Name: o.args[0], Args: args})
	case "health":
		return healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	}
	return nil, fmt.Errorf("%w: unknown command %q", errUsage, o.command)
}

// runOne calls one service and prints the answer.
func (r *runner) runOne(ctx context.Context, o options) int {
	conn, err := dial(o.addr)
	if err != nil {
		fmt.Fprintf(r.stderr, "riachoctl: %v\n", err)
		return ExitFailed
	}
	defer conn.Close()
	msg, err := invoke(ctx, conn, o)
	if err != nil {
		fmt.Fprintf(r.stderr, "riachoctl: %s %s: %s\n", o.command, o.addr, describe(err))
		return ExitFailed
	}
	if o.json {
		if err := writeJSON(r.stdout, msg); err != nil {
			fmt.Fprintf(r.stderr, "riachoctl: %v\n", err)
			return ExitFailed
		}
	} else {
		printHuman(r.stdout, o, msg)
	}
	if h, ok := msg.(*healthpb.HealthCheckResponse); ok && h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		fmt.Fprintf(r.stderr, "riachoctl: health %s: %s\n", o.addr, h.GetStatus())
		return ExitFailed
	}
	return ExitOK
}

// describe renders an error as "Code: message".
func describe(err error) string {
	st := status.Convert(err)
	return fmt.Sprintf("%s: %s", st.Code(), st.Message())
}
