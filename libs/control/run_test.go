package control_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// runServer starts Run in the background and waits for the listener.
func runServer(t *testing.T, ctx context.Context, srv *control.Server) (<-chan error, string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Addr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("server did not listen")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return done, srv.Addr().String()
}

func TestRunStopsOnCancel(t *testing.T) {
	cfg := tokenConfig()
	cfg.Addr, cfg.ShutdownTimeout = "127.0.0.1:0", 2*time.Second
	srv, err := control.New(cfg, "cdc", "v0", nil, control.Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, addr := runServer(t, ctx, srv)

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := controlv1.NewControlClient(conn).Status(withToken(opsToken), &controlv1.StatusRequest{})
	if err != nil || resp.GetService() != "cdc" {
		t.Fatalf("status: %v %v", resp, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
	defer ccancel()
	if _, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Fatal("server still answers after Run returned")
	}
}

func TestRunBoundsShutdown(t *testing.T) {
	cfg := tokenConfig()
	cfg.Addr, cfg.ShutdownTimeout = "127.0.0.1:0", 200*time.Millisecond
	entered := make(chan struct{})
	srv, err := control.New(cfg, "sink", "v0", nil, control.Hooks{
		Commands: map[string]control.CommandFunc{
			// flush ignores shutdown until its context is cancelled.
			"flush": func(ctx context.Context, _ map[string]string) (*controlv1.CommandResponse, error) {
				close(entered)
				<-ctx.Done()
				return nil, ctx.Err()
			},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, addr := runServer(t, ctx, srv)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	callErr := make(chan error, 1)
	go func() {
		_, err := controlv1.NewControlClient(conn).Command(withToken(opsToken), &controlv1.CommandRequest{Name: "flush"})
		callErr <- err
	}()
	<-entered
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within the shutdown timeout")
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("Run returned after %v, before the graceful period", took)
	}
	if err := <-callErr; err == nil {
		t.Fatal("the in-flight call succeeded although it was cut off")
	}
}

func TestRunListenError(t *testing.T) {
	cfg := tokenConfig()
	cfg.Addr, cfg.ShutdownTimeout = "127.0.0.1:0", time.Second
	first, err := control.New(cfg, "a", "v0", nil, control.Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, addr := runServer(t, ctx, first)
	defer func() { cancel(); <-done }()

	cfg.Addr = addr
	second, err := control.New(cfg, "b", "v0", nil, control.Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = second.Run(context.Background())
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Run on a taken port: %v", err)
	}
}
