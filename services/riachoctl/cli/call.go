package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// dial opens a lazy connection to addr, with TLS when o asks for it.
func dial(addr string, o options) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if o.tls {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.caFile != "" {
			pem, err := os.ReadFile(o.caFile)
			if err != nil {
				return nil, fmt.Errorf("--ca: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca %s: no PEM certificate in the file", o.caFile)
			}
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	return conn, nil
}

// callCtx bounds a call by the timeout and attaches the bearer token.
func callCtx(ctx context.Context, o options, token string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	return ctx, cancel
}

// invoke runs o.command against conn and returns the response message.
func invoke(ctx context.Context, conn *grpc.ClientConn, o options) (proto.Message, error) {
	if o.command == "metrics" {
		ctx, cancel := callCtx(ctx, o, o.metricsToken)
		defer cancel()
		return invokeMetrics(ctx, conn, o)
	}
	ctx, cancel := callCtx(ctx, o, o.token)
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
	case "health":
		return healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	}
	if o.verb == "" {
		return nil, fmt.Errorf("%w: unknown command %q", errUsage, o.command)
	}
	args, err := verbArgs(o)
	if err != nil {
		return nil, err
	}
	return c.Command(ctx, &controlv1.CommandRequest{Name: o.verb, Args: args})
}

// runOne calls one service and prints the answer.
func (r *runner) runOne(ctx context.Context, o options) int {
	conn, err := dial(o.addr, o)
	if err != nil {
		fmt.Fprintf(r.stderr, "riachoctl: %v\n", err)
		return ExitFailed
	}
	defer conn.Close()
	msg, err := invoke(ctx, conn, o)
	if err != nil {
		fmt.Fprintf(r.stderr, "riachoctl: %s: %s\n", target(o), explain(err, o))
		return ExitFailed
	}
	if o.output == outputJSON {
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

// target names the call in an error: "sink (127.0.0.1:9103) flush".
func target(o options) string {
	name := o.command
	if o.verb != "" && o.verb != o.command {
		name += " " + o.verb
	}
	if o.service != "" {
		return fmt.Sprintf("%s %s (%s)", name, o.service, o.addr)
	}
	return fmt.Sprintf("%s %s", name, o.addr)
}

// describe renders an error as "Code: message".
func describe(err error) string {
	if errors.Is(err, errUsage) {
		return err.Error()
	}
	st := status.Convert(err)
	return fmt.Sprintf("%s: %s", st.Code(), st.Message())
}

// explain is describe plus what to do about the common failures.
func explain(err error, o options) string {
	msg := describe(err)
	switch status.Code(err) {
	case codes.Unavailable:
		return msg + " (is the service running and listening there? see --endpoints / $" + EndpointsEnv + ")"
	case codes.DeadlineExceeded:
		return msg + fmt.Sprintf(" (no answer within --timeout %s)", o.timeout)
	case codes.Unauthenticated:
		if o.command == "metrics" {
			return msg + " (set --metrics-token or $" + MetricsTokenEnv + ")"
		}
		return msg + " (set --token or $" + TokenEnv + ")"
	}
	return msg
}
