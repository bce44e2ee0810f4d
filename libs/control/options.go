package control

import (
	"strings"

	"google.golang.org/grpc"
)

// Option changes how New builds the server.
type Option func(*options)

type options struct {
	server   []grpc.ServerOption
	services []extraService
}

// extraService is another gRPC service served beside Control, which
// authenticates its own calls.
type extraService struct {
	desc   *grpc.ServiceDesc
	impl   any
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
}

// WithServerOptions adds gRPC server options, such as TLS credentials
// (grpc.Creds), which then apply to Control too.
func WithServerOptions(opts ...grpc.ServerOption) Option {
	return func(o *options) { o.server = append(o.server, opts...) }
}

// WithService serves another gRPC service on the same server (a service's
// public API beside its Control). Its calls skip the Control token check and
// pass through unary and stream instead (either may be nil), which must
// authenticate them; they are not written to Control's audit log.
func WithService(desc *grpc.ServiceDesc, impl any, unary grpc.UnaryServerInterceptor, stream grpc.StreamServerInterceptor) Option {
	return func(o *options) {
		o.services = append(o.services, extraService{desc: desc, impl: impl, unary: unary, stream: stream})
	}
}

// extraFor returns the extra service a full method name belongs to.
func (s *Server) extraFor(method string) *extraService {
	for i := range s.extra {
		if strings.HasPrefix(method, "/"+s.extra[i].desc.ServiceName+"/") {
			return &s.extra[i]
		}
	}
	return nil
}

// GRPC returns the underlying gRPC server, for serving it on a further
// listener (such as an in-process one for a REST gateway).
func (s *Server) GRPC() *grpc.Server { return s.grpc }
