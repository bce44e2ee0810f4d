package control_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// listServices asks the reflection service for the service names.
func listServices(ctx context.Context, f *fixture) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(f.conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.CloseSend() }()
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// After io.EOF from Send, Recv returns the stream's real status.
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

func TestAuth(t *testing.T) {
	f := start(t, tokenConfig(), control.Hooks{})
	bare := context.Background()
	raw := func(v string) context.Context {
		return metadata.AppendToOutgoingContext(bare, "authorization", v)
	}
	tests := []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"no token", bare, codes.Unauthenticated},
		{"wrong token", withToken("tok-ops-0123456789abcdeX"), codes.Unauthenticated},
		{"token prefix", withToken(opsToken[:10]), codes.Unauthenticated},
		{"basic scheme", raw("Basic " + opsToken), codes.Unauthenticated},
		{"no scheme", raw(opsToken), codes.Unauthenticated},
		{"two headers", metadata.AppendToOutgoingContext(withToken(opsToken), "authorization", "Bearer x"), codes.Unauthenticated},
		{"right token", withToken(opsToken), codes.OK},
		{"second token", withToken(ciToken), codes.OK},
		{"lowercase scheme", raw("bearer " + opsToken), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.cli.Status(tt.ctx, &controlv1.StatusRequest{})
			if status.Code(err) != tt.want {
				t.Fatalf("Status: %v, want %v", err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), opsToken) || strings.Contains(err.Error(), ciToken)) {
				t.Fatalf("error leaks a token: %v", err)
			}
		})
	}

	t.Run("health without token", func(t *testing.T) {
		resp, err := healthpb.NewHealthClient(f.conn).Check(bare, &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health: %v %v", resp, err)
		}
		resp, err = healthpb.NewHealthClient(f.conn).Check(bare, &healthpb.HealthCheckRequest{Service: "riacho.control.v1.Control"})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of Control: %v %v", resp, err)
		}
	})
	t.Run("health follows the service", func(t *testing.T) {
		f.srv.Health().SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
		defer f.srv.Health().SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		resp, err := healthpb.NewHealthClient(f.conn).Check(bare, &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Fatalf("health: %v %v", resp, err)
		}
	})
	t.Run("reflection without token", func(t *testing.T) {
		if _, err := listServices(bare, f); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("reflection: %v, want Unauthenticated", err)
		}
	})
	t.Run("reflection with token", func(t *testing.T) {
		names, err := listServices(withToken(opsToken), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"riacho.control.v1.Control", "grpc.health.v1.Health"} {
			if !slices.Contains(names, want) {
				t.Fatalf("reflection lists %v, missing %s", names, want)
			}
		}
	})
}

func TestInsecureModeAcceptsAnyone(t *testing.T) {
	f := start(t, control.Config{Insecure: true}, control.Hooks{
		Pause: func(context.Context, string) error { return nil },
	})
	if _, err := f.cli.Pause(context.Background(), &controlv1.PauseRequest{Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if got := f.state.Status().GetDetails()[control.DetailPausedBy]; got != "anonymous" {
		t.Fatalf("paused_by = %q, want anonymous", got)
	}
	if !strings.Contains(f.logs.String(), "unauthenticated calls") {
		t.Fatal("no warning about insecure mode")
	}
}

func TestInsecureFlagDoesNotDisableConfiguredTokens(t *testing.T) {
	cfg := tokenConfig()
	cfg.Insecure = true
	f := start(t, cfg, control.Hooks{})
	if _, err := f.cli.Status(context.Background(), &controlv1.StatusRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Status without token: %v, want Unauthenticated", err)
	}
}

func TestAuditLog(t *testing.T) {
	const secretArg = "s3cret-arg-value"
	f := start(t, tokenConfig(), control.Hooks{
		Pause: func(context.Context, string) error { return nil },
		Commands: map[string]control.CommandFunc{
			"replay": func(context.Context, map[string]string) (*controlv1.CommandResponse, error) { return nil, nil },
		},
	})
	if _, err := f.cli.Pause(withToken(opsToken), &controlv1.PauseRequest{Reason: "maintenance window"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cli.Command(withToken(ciToken), &controlv1.CommandRequest{
		Name: "replay", Args: map[string]string{"topic": "raw.x", "password": secretArg},
	}); err != nil {
		t.Fatal(err)
	}
	_, _ = f.cli.Status(withToken("not-a-token"), &controlv1.StatusRequest{})
	_, _ = f.cli.Status(context.Background(), &controlv1.StatusRequest{})

	lines := f.logs.lines(t, "control call")
	if len(lines) != 4 {
		t.Fatalf("want 4 audit lines, got %d: %s", len(lines), f.logs.String())
	}
	check := func(i int, want map[string]any) {
		t.Helper()
		for k, v := range want {
			got := lines[i][k]
			if s, ok := got.([]any); ok {
				got = joinStrings(s)
			}
			if got != v {
				t.Errorf("line %d: %s = %v, want %v (%v)", i, k, got, v, lines[i])
			}
		}
		for _, k := range []string{"peer", "duration_ms"} {
			if _, ok := lines[i][k]; !ok {
				t.Errorf("line %d lacks %s", i, k)
			}
		}
	}
	check(0, map[string]any{"method": "Pause", "caller": "ops", "code": "OK", "reason": "maintenance window"})
	check(1, map[string]any{"method": "Command", "caller": "ci", "code": "OK", "command": "replay", "arg_keys": "password,topic"})
	check(2, map[string]any{"method": "Status", "caller": "", "code": "Unauthenticated"})
	check(3, map[string]any{"method": "Status", "caller": "", "code": "Unauthenticated"})
	if !strings.HasPrefix(lines[0]["peer"].(string), "127.0.0.1:") {
		t.Errorf("peer = %v", lines[0]["peer"])
	}
	all := f.logs.String()
	for _, secret := range []string{opsToken, ciToken, "not-a-token", secretArg} {
		if strings.Contains(all, secret) {
			t.Fatalf("log contains %q:\n%s", secret, all)
		}
	}
}

// joinStrings joins a decoded JSON string array with commas.
func joinStrings(s []any) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i], _ = v.(string)
	}
	return strings.Join(parts, ",")
}
