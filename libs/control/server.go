package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// Server is a gRPC server exposing Control, health and reflection for one service.
type Server struct {
	cfg    Config
	state  *State
	logger *slog.Logger
	auth   *authenticator
	grpc   *grpc.Server
	health *health.Server
	extra  []extraService

	mu  sync.Mutex
	lis net.Listener
}

// New validates cfg and builds the server for service at version. A nil st
// gets a fresh State; a nil logger discards logs.
func New(cfg Config, service, version string, st *State, hooks Hooks, logger *slog.Logger, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("control config: %w", err)
	}
	if service == "" {
		return nil, errors.New("control server: empty service name")
	}
	creds, err := cfg.credentials()
	if err != nil {
		return nil, fmt.Errorf("control config: %w", err)
	}
	if st == nil {
		st = NewState()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st.setIdentity(service, version, slices.Sorted(maps.Keys(hooks.Commands)))

	s := &Server{
		cfg:    cfg,
		state:  st,
		logger: logger,
		auth:   &authenticator{creds: creds},
		health: health.NewServer(),
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s.extra = o.services
	s.grpc = grpc.NewServer(append([]grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
	}, o.server...)...)
	controlv1.RegisterControlServer(s.grpc, &controlService{state: st, hooks: hooks})
	for _, e := range s.extra {
		s.grpc.RegisterService(e.desc, e.impl)
	}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.health.SetServingStatus(controlv1.Control_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)

	if len(creds) == 0 {
		logger.Warn("control server accepts unauthenticated calls", slog.String("setting", "RIACHO_CONTROL_INSECURE"))
	}
	return s, nil
}

// State returns the State the server reports.
func (s *Server) State() *State { return s.state }

// Health returns the gRPC health server, so the service can mark itself (the
// "" service) or parts of it serving or not serving.
func (s *Server) Health() *health.Server { return s.health }

// Addr returns the address the server listens on, or nil before it listens.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return nil
	}
	return s.lis.Addr()
}

// Serve answers calls on lis until Shutdown; it returns nil after a shutdown
// (also when Shutdown came first) and closes lis.
func (s *Server) Serve(lis net.Listener) error {
	s.mu.Lock()
	s.lis = lis
	s.mu.Unlock()
	s.logger.Info("control server listening", slog.String("addr", lis.Addr().String()))
	stop := make(chan struct{})
	defer close(stop)
	go s.state.sampleEvery(time.Second, stop)
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve control: %w", err)
	}
	return nil
}

// Shutdown marks every health service not serving, then stops the server
// gracefully, cutting off calls still running when ctx ends.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.logger.Warn("control server graceful stop timed out; closing connections")
		s.grpc.Stop()
		<-done
	}
}

// Run listens on the configured address and serves until ctx ends, then
// stops within the configured shutdown timeout.
func (s *Server) Run(ctx context.Context) error {
	lis, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen control %s: %w", s.cfg.Addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	s.Shutdown(sctx)
	return <-errc
}
