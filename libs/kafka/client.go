package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Opts validates c and turns it into franz-go client options: seed brokers,
// client id, timeouts, TLS and SASL. Files named by c are read here.
func (c Config) Opts() ([]kgo.Opt, error) {
	c.normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DialTimeout(c.DialTimeout),
		kgo.RequestTimeoutOverhead(c.RequestTimeout),
	}
	if c.ClientID != "" {
		opts = append(opts, kgo.ClientID(c.ClientID))
	}
	if c.TLS {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.SASLMechanism != "" {
		m, err := c.saslMechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// NewClient returns a franz-go client for c, with extra options applied
// after the ones from c.
func NewClient(cfg Config, extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := cfg.Opts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return cl, nil
}

func (c Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: c.TLSInsecureSkipVerify, //nolint:gosec // explicit operator choice, validated
	}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("RIACHO_KAFKA_TLS_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("RIACHO_KAFKA_TLS_CA_FILE: no PEM certificate in %s", c.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("RIACHO_KAFKA_TLS_CERT_FILE/RIACHO_KAFKA_TLS_KEY_FILE: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (c Config) saslMechanism() (sasl.Mechanism, error) {
	pass := c.SASLPassword
	if c.SASLPasswordFile != "" {
		b, err := os.ReadFile(c.SASLPasswordFile)
		if err != nil {
			// The error names the file, never its content.
			return nil, fmt.Errorf("RIACHO_KAFKA_SASL_PASSWORD_FILE: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
		if pass == "" {
			return nil, fmt.Errorf("RIACHO_KAFKA_SASL_PASSWORD_FILE: %s is empty", c.SASLPasswordFile)
		}
	}
	switch c.SASLMechanism {
	case SASLPlain:
		return plain.Auth{User: c.SASLUsername, Pass: pass}.AsMechanism(), nil
	case SASLScramSHA256:
		return scram.Auth{User: c.SASLUsername, Pass: pass}.AsSha256Mechanism(), nil
	case SASLScramSHA512:
		return scram.Auth{User: c.SASLUsername, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("RIACHO_KAFKA_SASL_MECHANISM: unsupported %q", c.SASLMechanism)
}
