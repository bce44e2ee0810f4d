package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// certSubject is what a client certificate must carry: its subject common
// name, a URI SAN or a DNS SAN.
type certSubject struct {
	kind  string // "", "CN", "URI" or "DNS"
	value string
}

// String writes the subject the way the policy file does.
func (s certSubject) String() string {
	if s.kind == "CN" {
		return "CN=" + s.value
	}
	return s.kind + ":" + s.value
}

// parseSubject reads a cert_subject: CN=name, URI:uri (or a bare uri such as
// spiffe://…), or DNS:host.
func parseSubject(s string) (certSubject, error) {
	s = strings.TrimSpace(s)
	var out certSubject
	switch {
	case strings.HasPrefix(s, "CN="):
		out = certSubject{"CN", s[3:]}
		if strings.ContainsAny(out.value, ",+") {
			return certSubject{}, fmt.Errorf("%q: only the common name is matched; write CN=<name> alone", s)
		}
	case strings.HasPrefix(s, "URI:"):
		out = certSubject{"URI", s[4:]}
	case strings.HasPrefix(s, "DNS:"):
		out = certSubject{"DNS", strings.ToLower(s[4:])}
	case strings.Contains(s, "://"):
		out = certSubject{"URI", s}
	default:
		return certSubject{}, fmt.Errorf("%q: want CN=<name>, URI:<uri> (or a bare spiffe://… URI) or DNS:<host>", s)
	}
	if out.value == "" {
		return certSubject{}, fmt.Errorf("%q: empty %s", s, out.kind)
	}
	return out, nil
}

// matches reports whether the certificate carries the subject.
func (s certSubject) matches(cert *x509.Certificate) bool {
	switch s.kind {
	case "CN":
		return cert.Subject.CommonName == s.value
	case "URI":
		return slices.ContainsFunc(cert.URIs, func(u *url.URL) bool { return u.String() == s.value })
	case "DNS":
		return slices.ContainsFunc(cert.DNSNames, func(d string) bool { return strings.EqualFold(d, s.value) })
	}
	return false
}

// describeCert names a certificate by its subject and SANs, for errors.
func describeCert(cert *x509.Certificate) string {
	parts := []string{"CN=" + cert.Subject.CommonName}
	for _, u := range cert.URIs {
		parts = append(parts, "URI:"+u.String())
	}
	for _, d := range cert.DNSNames {
		parts = append(parts, "DNS:"+d)
	}
	return strings.Join(parts, " ")
}

// principalKey carries the Principal in a context.
type principalKey struct{}

// NewContext returns ctx carrying the principal.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the interceptors authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Authenticate identifies the caller of a gRPC call. An "authorization:
// Bearer <token>" metadata entry takes precedence; otherwise a client
// certificate verified by the TLS handshake is matched against the clients'
// cert_subject; otherwise the caller is anonymous if the policy admits that.
// Every failure is an Unauthenticated status that never repeats the token.
func (p *Policy) Authenticate(ctx context.Context) (Principal, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if vals := md.Get("authorization"); len(vals) > 0 {
		return p.bearer(vals)
	}
	if cert, verified, ok := peerCert(ctx); ok {
		if !verified {
			return Principal{}, status.Error(codes.Unauthenticated,
				"client certificate was not verified against the trusted client CAs")
		}
		for _, c := range p.clients {
			if c.subject.kind != "" && c.subject.matches(cert) {
				return Principal{Name: c.name, Roles: slices.Clone(c.roles), Method: MethodMTLS}, nil
			}
		}
		return Principal{}, status.Errorf(codes.Unauthenticated,
			"client certificate (%s) matches no client of the access policy", describeCert(cert))
	}
	if p.anonymous {
		return Principal{Name: AnonymousName, Roles: slices.Clone(p.anonymousRoles), Method: MethodAnonymous}, nil
	}
	return Principal{}, status.Error(codes.Unauthenticated,
		"no credentials: send \"authorization: Bearer <token>\" metadata or a client certificate")
}

// bearer checks the authorization metadata values.
func (p *Policy) bearer(vals []string) (Principal, error) {
	if len(vals) != 1 {
		return Principal{}, status.Error(codes.Unauthenticated, "more than one authorization metadata entry")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return Principal{}, status.Error(codes.Unauthenticated, "malformed authorization metadata, want \"Bearer <token>\"")
	}
	digest := sha256.Sum256([]byte(token))
	found := -1
	// Compare against every token, without stopping early.
	for i := range p.clients {
		c := &p.clients[i]
		if c.hasToken && subtle.ConstantTimeCompare(digest[:], c.digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, status.Error(codes.Unauthenticated, "invalid bearer token: it matches no client of the access policy")
	}
	c := p.clients[found]
	return Principal{Name: c.name, Roles: slices.Clone(c.roles), Method: MethodBearer}, nil
}

// peerCert returns the client's leaf certificate and whether the handshake
// verified it; ok is false when the call carries no client certificate.
func peerCert(ctx context.Context) (cert *x509.Certificate, verified, ok bool) {
	pr, found := peer.FromContext(ctx)
	if !found {
		return nil, false, false
	}
	info, isTLS := pr.AuthInfo.(credentials.TLSInfo)
	if !isTLS {
		return nil, false, false
	}
	if chains := info.State.VerifiedChains; len(chains) > 0 && len(chains[0]) > 0 {
		return chains[0][0], true, true
	}
	if len(info.State.PeerCertificates) > 0 {
		return info.State.PeerCertificates[0], false, true
	}
	return nil, false, false
}

// exempt lists the services callable without credentials.
var exempt = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

func isExempt(method string) bool {
	return slices.ContainsFunc(exempt, func(prefix string) bool { return strings.HasPrefix(method, prefix) })
}

// InterceptorOption configures UnaryInterceptor and StreamInterceptor.
type InterceptorOption func(*interceptorOptions)

type interceptorOptions struct {
	auditor *Auditor
}

// AuditFailures writes a line to a for every call refused as Unauthenticated
// (the handler, which audits the calls that get through, never runs for them).
func AuditFailures(a *Auditor) InterceptorOption {
	return func(o *interceptorOptions) { o.auditor = a }
}

func newInterceptorOptions(opts []InterceptorOption) interceptorOptions {
	var o interceptorOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// refused audits an authentication failure.
func (o interceptorOptions) refused(ctx context.Context, method string, err error, start time.Time) {
	if o.auditor == nil {
		return
	}
	o.auditor.Audit(ctx, Entry{
		Method: method[strings.LastIndexByte(method, '/')+1:], Code: status.Code(err),
		Error: status.Convert(err).Message(), Duration: time.Since(start),
	})
}

// UnaryInterceptor authenticates every unary call except health checks and
// reflection, and puts the Principal in the handler's context.
func (p *Policy) UnaryInterceptor(opts ...InterceptorOption) grpc.UnaryServerInterceptor {
	o := newInterceptorOptions(opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if isExempt(info.FullMethod) {
			return handler(ctx, req)
		}
		start := time.Now()
		pr, err := p.Authenticate(ctx)
		if err != nil {
			o.refused(ctx, info.FullMethod, err, start)
			return nil, err
		}
		return handler(NewContext(ctx, pr), req)
	}
}

// StreamInterceptor authenticates every streaming call except health checks
// and reflection, and puts the Principal in the stream's context.
func (p *Policy) StreamInterceptor(opts ...InterceptorOption) grpc.StreamServerInterceptor {
	o := newInterceptorOptions(opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if isExempt(info.FullMethod) {
			return handler(srv, ss)
		}
		start := time.Now()
		pr, err := p.Authenticate(ss.Context())
		if err != nil {
			o.refused(ss.Context(), info.FullMethod, err, start)
			return err
		}
		return handler(srv, &principalStream{ServerStream: ss, ctx: NewContext(ss.Context(), pr)})
	}
}

// principalStream is a ServerStream whose context carries the principal.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the stream context with the principal attached.
func (s *principalStream) Context() context.Context { return s.ctx }
