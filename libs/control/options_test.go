package control_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
)

// fakeMetrics answers ListMetrics with one metric named after the caller's x-client metadata.
type fakeMetrics struct {
	metricsv1.UnimplementedMetricsServiceServer
}

func (fakeMetrics) ListMetrics(ctx context.Context, _ *metricsv1.ListMetricsRequest) (*metricsv1.ListMetricsResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return &metricsv1.ListMetricsResponse{Metrics: []*metricsv1.Metric{{Name: md.Get("x-client")[0]}}}, nil
}

func TestWithServiceUsesItsOwnAuthentication(t *testing.T) {
	own := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		if len(md.Get("x-client")) != 1 {
			return nil, status.Error(codes.PermissionDenied, "no x-client")
		}
		return handler(ctx, req)
	}
	cfg := tokenConfig()
	cfg.Addr, cfg.ShutdownTimeout = "127.0.0.1:0", 2*time.Second
	srv, err := control.New(cfg, "metrics", "v1", nil, control.Hooks{}, slog.New(slog.DiscardHandler),
		control.WithService(&metricsv1.MetricsService_ServiceDesc, fakeMetrics{}, own, nil))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mc := metricsv1.NewMetricsServiceClient(conn)

	// Without a Control token the extra service's own check decides.
	_, err = mc.ListMetrics(context.Background(), &metricsv1.ListMetricsRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("extra service without its credential: %v, want PermissionDenied from its own interceptor", err)
	}
	resp, err := mc.ListMetrics(metadata.AppendToOutgoingContext(context.Background(), "x-client", "bi"), &metricsv1.ListMetricsRequest{})
	if err != nil || resp.GetMetrics()[0].GetName() != "bi" {
		t.Fatalf("extra service with its credential: %v %v", resp, err)
	}
	// Control itself still needs its token, on the same server.
	cc := controlv1.NewControlClient(conn)
	if _, err := cc.Status(metadata.AppendToOutgoingContext(context.Background(), "x-client", "bi"), &controlv1.StatusRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Control without a token: %v, want Unauthenticated", err)
	}
	if _, err := cc.Status(withToken(opsToken), &controlv1.StatusRequest{}); err != nil {
		t.Fatalf("Control with a token: %v", err)
	}
}
