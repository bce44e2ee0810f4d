package telemetry_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/riacho/riacho/libs/telemetry"
)

// receiver is a real OTLP gRPC trace receiver that records span names.
type receiver struct {
	collectortrace.UnimplementedTraceServiceServer
	mu       sync.Mutex
	spans    []string
	services []string
	got      chan struct{}
}

func (r *receiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				r.services = append(r.services, a.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, s.GetName())
			}
		}
	}
	select {
	case r.got <- struct{}{}:
	default:
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startReceiver(t *testing.T) (*receiver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{got: make(chan struct{}, 1)}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, r)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return r, lis.Addr().String()
}

func TestOTLPExport(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(addr string) telemetry.Config
	}{
		{"otel url", func(addr string) telemetry.Config {
			return telemetry.Config{OTELEndpoint: "http://" + addr, TraceSampleRatio: 1}
		}},
		{"riacho hostport insecure", func(addr string) telemetry.Config {
			return telemetry.Config{OTLPEndpoint: addr, OTLPInsecure: true, TraceSampleRatio: 1}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv, addr := startReceiver(t)
			cfg := tt.cfg(addr)
			cfg.LogOutput = io.Discard
			ctx := context.Background()
			tel, err := telemetry.Setup(ctx, "quality", "v9", cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, span := tel.TracerProvider.Tracer("riacho/test").Start(ctx, "validate-window")
			if !span.SpanContext().IsSampled() {
				t.Fatal("span not sampled with ratio 1")
			}
			span.End()

			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := tel.Shutdown(sctx); err != nil { // flushes the batch
				t.Fatalf("shutdown: %v", err)
			}
			select {
			case <-rcv.got:
			case <-sctx.Done():
				t.Fatal("no export received")
			}
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			if len(rcv.spans) != 1 || rcv.spans[0] != "validate-window" {
				t.Fatalf("received spans %v", rcv.spans)
			}
			if len(rcv.services) == 0 || rcv.services[0] != "quality" {
				t.Fatalf("resource service.name %v", rcv.services)
			}
		})
	}
}

func TestNoEndpointRecordsNothing(t *testing.T) {
	tel, err := telemetry.Setup(context.Background(), "cdc", "v0", telemetry.Config{TraceSampleRatio: 1, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	_, span := tel.TracerProvider.Tracer("t").Start(context.Background(), "s")
	defer span.End()
	if span.IsRecording() {
		t.Fatal("span records without an endpoint")
	}
}

func TestSetupRejectsInvalidConfig(t *testing.T) {
	_, err := telemetry.Setup(context.Background(), "cdc", "v0", telemetry.Config{LogLevel: "nope", TraceSampleRatio: 1})
	if err == nil {
		t.Fatal("invalid config accepted")
	}
}
