package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
)

// pki is a CA with one server and one client certificate, as PEM files.
type pki struct {
	caFile, serverCert, serverKey string
	client                        tls.Certificate
	pool                          *x509.CertPool
}

func newPKI(t *testing.T, clientCN string) *pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "riacho test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &pki{caFile: write("ca.pem", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	sDER, sKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.serverCert = write("server.pem", "CERTIFICATE", sDER)
	sk, _ := x509.MarshalECPrivateKey(sKey)
	p.serverKey = write("server.key", "EC PRIVATE KEY", sk)
	cDER, cKey := issue(3, clientCN, x509.ExtKeyUsageClientAuth, nil)
	p.client = tls.Certificate{Certificate: [][]byte{cDER}, PrivateKey: cKey}
	return p
}

// TestMutualTLS: with TLS on, a client certificate maps to its policy
// client (and that client's roles), a bearer token still works over TLS,
// a plaintext client is refused, and the REST face serves HTTPS.
func TestMutualTLS(t *testing.T) {
	b := startBroker(t)
	b.produce(t, genSubs(6, 40))
	p := newPKI(t, "marketing-job")
	r := startService(t, b, "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"),
		"RIACHO_METRICS_TLS_CERT="+p.serverCert, "RIACHO_METRICS_TLS_KEY="+p.serverKey,
		"RIACHO_METRICS_TLS_CLIENT_CA="+p.caFile)
	dial := func(certs ...tls.Certificate) metricsv1.MetricsServiceClient {
		creds := credentials.NewTLS(&tls.Config{RootCAs: p.pool, Certificates: certs, MinVersion: tls.VersionTLS12})
		conn, err := grpc.NewClient(r.svc.Addr(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return metricsv1.NewMetricsServiceClient(conn)
	}
	mtls := dial(p.client)
	mrrBySegment := &metricsv1.QueryRequest{Metrics: []string{"mrr"}, Grain: "month", Dimensions: []string{"customer_segment"}}
	if _, err := runQuery(t.Context(), mtls, mrrBySegment); err != nil {
		t.Fatalf("certificate client (marketing) reading mrr by segment: %v", err)
	}
	byCustomer := &metricsv1.QueryRequest{Metrics: []string{"revenue_by_customer"}, Dimensions: []string{"customer_id"}}
	if _, err := runQuery(t.Context(), mtls, byCustomer); status.Code(err) != codes.PermissionDenied ||
		!strings.Contains(err.Error(), "marketing-job") {
		t.Errorf("certificate client reading revenue by customer: %v, want PermissionDenied naming marketing-job", err)
	}
	if _, err := runQuery(as(financeToken), dial(), byCustomer); err != nil {
		t.Errorf("bearer token over TLS: %v", err)
	}
	if _, err := runQuery(as(financeToken), r.cli, mrrBySegment); err == nil {
		t.Error("a plaintext client was answered by the TLS server")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+r.svc.HTTPAddr()+"/v1/metrics/mrr", nil)
	req.Header.Set("Authorization", "Bearer "+financeToken)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("REST over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("REST over TLS: %d", resp.StatusCode)
	}
	if a := r.audit.String(); !strings.Contains(a, `"marketing-job"`) || !strings.Contains(a, "mtls") {
		t.Errorf("audit lacks the certificate client: %s", a[:min(len(a), 600)])
	}
}
