package access

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// whoDesc is a tiny test service answering who the caller is.
var whoDesc = grpc.ServiceDesc{
	ServiceName: "riacho.test.v1.Who",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Who",
		Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) { return wrapperspb.String(describe(ctx)), nil }
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/riacho.test.v1.Who/Who"}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(_ any, stream grpc.ServerStream) error {
			if err := stream.RecvMsg(new(emptypb.Empty)); err != nil {
				return err
			}
			return stream.SendMsg(wrapperspb.String(describe(stream.Context())))
		},
	}},
}

// describe renders the context's principal as "name method role,role".
func describe(ctx context.Context) string {
	p, ok := FromContext(ctx)
	if !ok {
		return "no principal"
	}
	return fmt.Sprintf("%s %s %s", p.Name, p.Method, strings.Join(p.Roles, ","))
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve starts a gRPC server on loopback TCP with the policy's interceptors,
// the Who service and the health service; it returns the address and the
// audit log of refused calls.
func serve(t *testing.T, p *Policy, tlsCfg *tls.Config) (string, *syncBuffer) {
	t.Helper()
	audit := &syncBuffer{}
	aud := NewAuditor(audit)
	opts := []grpc.ServerOption{
		grpc.UnaryInterceptor(p.UnaryInterceptor(AuditFailures(aud))),
		grpc.StreamInterceptor(p.StreamInterceptor(AuditFailures(aud))),
	}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&whoDesc, struct{}{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return lis.Addr().String(), audit
}

// dial connects with the given transport credentials.
func dial(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// who calls the unary Who method, with a bearer token when token is not "".
func who(conn *grpc.ClientConn, auth string) (string, error) {
	ctx := context.Background()
	if auth != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
	}
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, "/riacho.test.v1.Who/Who", &emptypb.Empty{}, out)
	return out.GetValue(), err
}

// watch calls the streaming Watch method.
func watch(conn *grpc.ClientConn, auth string) (string, error) {
	ctx := context.Background()
	if auth != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
	}
	stream, err := conn.NewStream(ctx, &whoDesc.Streams[0], "/riacho.test.v1.Who/Watch")
	if err != nil {
		return "", err
	}
	if err := stream.SendMsg(&emptypb.Empty{}); err != nil {
		return "", err
	}
	if err := stream.CloseSend(); err != nil {
		return "", err
	}
	out := new(wrapperspb.StringValue)
	if err := stream.RecvMsg(out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}

// wantCall checks a call's result: a principal description, or a status
// code whose message contains msg.
func wantCall(t *testing.T, name, got string, err error, want string, code codes.Code, msg string) {
	t.Helper()
	if code == codes.OK {
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
		return
	}
	if status.Code(err) != code || !strings.Contains(status.Convert(err).Message(), msg) {
		t.Errorf("%s: got %q, %v; want %s containing %q", name, got, err, code, msg)
	}
}

func TestBearer(t *testing.T) {
	p := loadTestPolicy(t)
	addr, audit := serve(t, p, nil)
	conn := dial(t, addr, insecure.NewCredentials())
	for _, tc := range []struct {
		name, auth, want string
		code             codes.Code
		msg              string
	}{
		{"token", "Bearer bi-secret-token", "bi-dashboard bearer finance", codes.OK, ""},
		{"scheme is case-insensitive", "bearer bi-secret-token", "bi-dashboard bearer finance", codes.OK, ""},
		{"token_env", "Bearer ops-token", "ops-cli bearer marketing,sales", codes.OK, ""},
		{"wrong token", "Bearer wrong-token-xyz", "", codes.Unauthenticated, "invalid bearer token"},
		{"missing", "", "", codes.Unauthenticated, "no credentials"},
		{"other scheme", "Basic Ymk6c2VjcmV0", "", codes.Unauthenticated, "malformed authorization"},
		{"empty token", "Bearer ", "", codes.Unauthenticated, "malformed authorization"},
		{"digest is not a token", "Bearer 970780d0a598d85422d02bdde3e21e6f6cff94a1705c58c53ae6ee1a98f88563", "", codes.Unauthenticated, "invalid bearer token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := who(conn, tc.auth)
			wantCall(t, "unary", got, err, tc.want, tc.code, tc.msg)
			got, err = watch(conn, tc.auth)
			wantCall(t, "stream", got, err, tc.want, tc.code, tc.msg)
			if err != nil && strings.Contains(err.Error(), "wrong-token-xyz") {
				t.Errorf("error echoes the token: %v", err)
			}
		})
	}
	// More than one authorization entry is refused.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer bi-secret-token", "authorization", "Bearer ops-token")
	err := conn.Invoke(ctx, "/riacho.test.v1.Who/Who", &emptypb.Empty{}, new(wrapperspb.StringValue))
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("two tokens: %v", err)
	}
	// Health checks need no credentials.
	if resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health check: %v, %v", resp, err)
	}
	// Refused calls are audited by client-less lines that never hold a token.
	log := audit.String()
	if n := strings.Count(log, `"code":"Unauthenticated"`); n != 11 {
		t.Errorf("%d refused calls audited, want 11:\n%s", n, log)
	}
	if !strings.Contains(log, `"rpc":"Watch"`) || !strings.Contains(log, `"rpc":"Who"`) || !strings.Contains(log, `"peer":"127.0.0.1:`) {
		t.Errorf("audit lines lack rpc or peer:\n%s", log)
	}
	for _, secret := range []string{"wrong-token-xyz", "bi-secret-token", "ops-token", "Ymk6c2VjcmV0"} {
		if strings.Contains(log, secret) {
			t.Errorf("audit log contains token %q", secret)
		}
	}
}

func TestAnonymous(t *testing.T) {
	p, err := ParsePolicy("anon.yaml", []byte(`version: 1
anonymous: true
anonymous_roles: [public]
clients:
  - name: bi
    token_env: T
    roles: [public]
roles:
  - name: public
    metrics: [mrr]
`), env(map[string]string{"T": "tok"}))
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, p, nil)
	conn := dial(t, addr, insecure.NewCredentials())
	got, err := who(conn, "")
	wantCall(t, "anonymous", got, err, "anonymous anonymous public", codes.OK, "")
	got, err = who(conn, "Bearer tok")
	wantCall(t, "token beside anonymous", got, err, "bi bearer public", codes.OK, "")
	// A wrong token is refused even though anonymous calls are admitted.
	got, err = who(conn, "Bearer nope")
	wantCall(t, "wrong token", got, err, "", codes.Unauthenticated, "invalid bearer token")
}

func TestMTLS(t *testing.T) {
	p := loadTestPolicy(t)
	ca := newCA(t, "riacho-test-ca")
	rogue := newCA(t, "rogue-ca")
	certFile, keyFile := writeKeyPair(t, ca.issue(t, "metrics-server", true, nil, []string{"localhost"}))
	serverTLS, err := ServerTLS(certFile, keyFile, ca.file, false)
	if err != nil {
		t.Fatal(err)
	}
	addr, audit := serve(t, p, serverTLS)
	client := func(certs ...tls.Certificate) *grpc.ClientConn {
		return dial(t, addr, credentials.NewTLS(&tls.Config{
			MinVersion: tls.VersionTLS12, RootCAs: ca.pool, ServerName: "127.0.0.1", Certificates: certs,
		}))
	}
	marketing := ca.issue(t, "marketing-app", false, nil, nil)
	for _, tc := range []struct {
		name  string
		certs []tls.Certificate
		auth  string
		want  string
		code  codes.Code
		msg   string
	}{
		{"CN", []tls.Certificate{marketing}, "", "marketing-app mtls marketing", codes.OK, ""},
		{"URI SAN", []tls.Certificate{ca.issue(t, "report-job", false, []string{"spiffe://riacho.test/jobs/report"}, nil)}, "",
			"spiffe-job mtls marketing", codes.OK, ""},
		{"DNS SAN", []tls.Certificate{ca.issue(t, "x", false, nil, []string{"Reports.riacho.test"})}, "", "dns-job mtls sales", codes.OK, ""},
		{"bearer over TLS", nil, "Bearer bi-secret-token", "bi-dashboard bearer finance", codes.OK, ""},
		{"bearer wins over the certificate", []tls.Certificate{marketing}, "Bearer bi-secret-token", "bi-dashboard bearer finance", codes.OK, ""},
		{"a wrong token is not rescued by the certificate", []tls.Certificate{marketing}, "Bearer nope", "", codes.Unauthenticated, "invalid bearer token"},
		{"unknown subject", []tls.Certificate{ca.issue(t, "intruder", false, []string{"spiffe://riacho.test/other"}, nil)}, "", "",
			codes.Unauthenticated, "client certificate (CN=intruder URI:spiffe://riacho.test/other) matches no client"},
		{"no certificate, no token", nil, "", "", codes.Unauthenticated, "no credentials"},
		// A Go client offers no certificate the server's CAs did not sign.
		{"untrusted CA not offered", []tls.Certificate{rogue.issue(t, "marketing-app", false, nil, nil)}, "", "", codes.Unauthenticated, "no credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := client(tc.certs...)
			got, err := who(conn, tc.auth)
			wantCall(t, "unary", got, err, tc.want, tc.code, tc.msg)
			got, err = watch(conn, tc.auth)
			wantCall(t, "stream", got, err, tc.want, tc.code, tc.msg)
		})
	}
	// A client that insists on a certificate from another CA fails the
	// handshake: the call never reaches the service.
	forced := rogue.issue(t, "marketing-app", false, nil, nil)
	conn := dial(t, addr, credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS12, RootCAs: ca.pool, ServerName: "127.0.0.1",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &forced, nil },
	}))
	if got, err := who(conn, ""); status.Code(err) != codes.Unavailable {
		t.Errorf("untrusted CA: %q, %v; want Unavailable", got, err)
	}
	if log := audit.String(); !strings.Contains(log, "matches no client") || strings.Contains(log, "rogue") {
		t.Errorf("audit of refused calls:\n%s", log)
	}
}

func TestMTLSRequired(t *testing.T) {
	p := loadTestPolicy(t)
	ca := newCA(t, "ca")
	certFile, keyFile := writeKeyPair(t, ca.issue(t, "server", true, nil, nil))
	serverTLS, err := ServerTLS(certFile, keyFile, ca.file, true)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, p, serverTLS)
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: ca.pool, ServerName: "127.0.0.1"}
	// Without a client certificate the handshake fails, token or not.
	if _, err := who(dial(t, addr, credentials.NewTLS(tlsCfg)), "Bearer bi-secret-token"); status.Code(err) != codes.Unavailable {
		t.Errorf("no client certificate: %v, want Unavailable", err)
	}
	withCert := tlsCfg.Clone()
	withCert.Certificates = []tls.Certificate{ca.issue(t, "marketing-app", false, nil, nil)}
	got, err := who(dial(t, addr, credentials.NewTLS(withCert)), "")
	wantCall(t, "client certificate", got, err, "marketing-app mtls marketing", codes.OK, "")
}

// TestUnverifiedCertificate runs a server whose TLS accepts any client
// certificate without verifying it: Authenticate must not trust it.
func TestUnverifiedCertificate(t *testing.T) {
	p := loadTestPolicy(t)
	ca := newCA(t, "ca")
	rogue := newCA(t, "rogue")
	serverTLS := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{ca.issue(t, "server", true, nil, nil)},
		ClientAuth:   tls.RequireAnyClientCert,
	}
	addr, _ := serve(t, p, serverTLS)
	conn := dial(t, addr, credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS12, RootCAs: ca.pool, ServerName: "127.0.0.1",
		Certificates: []tls.Certificate{rogue.issue(t, "marketing-app", false, nil, nil)},
	}))
	got, err := who(conn, "")
	wantCall(t, "unverified", got, err, "", codes.Unauthenticated, "not verified")
}

func TestServerTLSErrors(t *testing.T) {
	ca := newCA(t, "ca")
	certFile, keyFile := writeKeyPair(t, ca.issue(t, "server", true, nil, nil))
	empty := t.TempDir() + "/empty.pem"
	writePEM(t, empty, "NOTHING", nil)
	for _, tc := range []struct {
		name                string
		cert, key, clientCA string
		require             bool
		want                string
	}{
		{"no key", certFile, "", "", false, "both a certificate and a key"},
		{"missing cert", certFile + ".x", keyFile, "", false, "load server certificate " + certFile + ".x"},
		{"require without CA", certFile, keyFile, "", true, "needs a client CA file"},
		{"missing CA", certFile, keyFile, ca.file + ".x", false, "read client CA file"},
		{"CA without certificates", certFile, keyFile, empty, false, "no PEM certificate"},
	} {
		if _, err := ServerTLS(tc.cert, tc.key, tc.clientCA, tc.require); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	cfg, err := ServerTLS(certFile, keyFile, "", false)
	if err != nil || cfg.ClientAuth != tls.NoClientCert || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("server TLS without client CA: %+v, %v", cfg, err)
	}
}
