package kafka_test

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
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testCA makes a CA and a server certificate for 127.0.0.1, returning the
// server's tls.Config and the CA as PEM.
func testCA(t testing.TB) (*tls.Config, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "riacho test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}},
	}
	return srv, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
}

func TestTLS(t *testing.T) {
	srvTLS, caPEM := testCA(t)
	cl := kafkatest.NewCluster(t, kfake.TLS(srvTLS), kfake.SeedTopics(1, "tls"))
	dir := t.TempDir()

	tests := []struct {
		name   string
		mutate func(*kafka.Config)
		ok     bool
	}{
		{"trusted CA file", func(c *kafka.Config) { c.TLSCAFile = writeFile(t, dir, "ca.pem", caPEM) }, true},
		{"insecure skip verify", func(c *kafka.Config) { c.TLSInsecureSkipVerify = true }, true},
		{"system roots reject the test CA", func(*kafka.Config) {}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cl.Config()
			cfg.TLS = true
			tt.mutate(&cfg)
			p, err := kafka.NewProducer(cfg, kafka.ProducerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			err = p.ProduceAll(testCtx(t, 1500*time.Millisecond), []*kgo.Record{{Topic: "tls", Value: []byte("x")}})
			if tt.ok && err != nil {
				t.Fatalf("produce over TLS: %v", err)
			}
			if !tt.ok && err == nil {
				t.Fatal("produce succeeded against an untrusted certificate")
			}
		})
	}
}
