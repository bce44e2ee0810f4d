package control

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

const (
	healthPrefix  = "/grpc.health.v1.Health/"
	controlPrefix = "/" + "riacho.control.v1.Control" + "/"
	// anonymous is the caller name when no tokens are configured (insecure mode).
	anonymous = "anonymous"
)

// callerKey carries the authenticated caller's token name in a context.
type callerKey struct{}

// callerFrom returns the authenticated caller's token name, or "".
func callerFrom(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}

// authenticator checks bearer tokens against the configured credentials.
type authenticator struct {
	creds []credential
}

// authenticate returns the caller's token name for method, or a gRPC
// Unauthenticated error. Health checks need no token.
func (a *authenticator) authenticate(ctx context.Context, method string) (string, error) {
	if strings.HasPrefix(method, healthPrefix) {
		return "", nil
	}
	if len(a.creds) == 0 {
		return anonymous, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) != 1 {
		return "", status.Error(codes.Unauthenticated, "missing authorization: Bearer <token> metadata")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return "", status.Error(codes.Unauthenticated, "malformed authorization metadata, want Bearer <token>")
	}
	digest := sha256.Sum256([]byte(strings.TrimSpace(token)))
	name := ""
	// Compare against every credential, without stopping early.
	for _, c := range a.creds {
		if subtle.ConstantTimeCompare(digest[:], c.digest[:]) == 1 {
			name = c.name
		}
	}
	if name == "" {
		return "", status.Error(codes.Unauthenticated, "invalid token")
	}
	return name, nil
}

// unaryInterceptor authenticates, recovers handler panics and audits Control calls.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	if e := s.extraFor(info.FullMethod); e != nil {
		if e.unary == nil {
			return s.safeHandle(ctx, req, info.FullMethod, handler)
		}
		return e.unary(ctx, req, info, func(ctx context.Context, req any) (any, error) {
			return s.safeHandle(ctx, req, info.FullMethod, handler)
		})
	}
	start := time.Now()
	caller, err := s.auth.authenticate(ctx, info.FullMethod)
	if err == nil {
		resp, err = s.safeHandle(context.WithValue(ctx, callerKey{}, caller), req, info.FullMethod, handler)
	}
	switch {
	case strings.HasPrefix(info.FullMethod, controlPrefix):
		s.audit(ctx, info.FullMethod, caller, req, err, time.Since(start))
	case status.Code(err) == codes.Unauthenticated:
		s.logger.LogAttrs(ctx, slog.LevelWarn, "control auth failed",
			slog.String("method", info.FullMethod), slog.String("peer", peerAddr(ctx)))
	}
	return resp, err
}

// safeHandle runs handler, turning a panic into codes.Internal.
func (s *Server) safeHandle(ctx context.Context, req any, method string, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.logger.LogAttrs(ctx, slog.LevelError, "control handler panic",
				slog.String("method", method), slog.Any("panic", p))
			resp, err = nil, status.Error(codes.Internal, "internal error")
		}
	}()
	return handler(ctx, req)
}

// streamInterceptor authenticates streaming calls (reflection, health watch).
func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if e := s.extraFor(info.FullMethod); e != nil {
		if e.stream == nil {
			return handler(srv, ss)
		}
		return e.stream(srv, ss, info, handler)
	}
	caller, err := s.auth.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		s.logger.LogAttrs(ss.Context(), slog.LevelWarn, "control auth failed",
			slog.String("method", info.FullMethod), slog.String("peer", peerAddr(ss.Context())))
		return err
	}
	return handler(srv, &callerStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callerKey{}, caller)})
}

// callerStream is a ServerStream whose context carries the caller.
type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the stream context with the caller attached.
func (c *callerStream) Context() context.Context { return c.ctx }

// audit writes the one log line per Control call.
func (s *Server) audit(ctx context.Context, method, caller string, req any, err error, d time.Duration) {
	code := status.Code(err)
	attrs := []slog.Attr{
		slog.String("method", strings.TrimPrefix(method, controlPrefix)),
		slog.String("caller", caller),
		slog.String("peer", peerAddr(ctx)),
		slog.String("code", code.String()),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	}
	switch r := req.(type) {
	case *controlv1.PauseRequest:
		attrs = append(attrs, slog.String("reason", r.GetReason()))
	case *controlv1.CommandRequest:
		attrs = append(attrs, slog.String("command", r.GetName()),
			slog.Any("arg_keys", slices.Sorted(maps.Keys(r.GetArgs()))))
	}
	if err != nil && code != codes.Unauthenticated {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelWarn
	}
	s.logger.LogAttrs(ctx, level, "control call", attrs...)
}

// peerAddr returns the remote address of the call, or "".
func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}
