package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// SASL mechanisms accepted in RIACHO_KAFKA_SASL_MECHANISM.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// redacted replaces secrets wherever a Config is printed.
const redacted = "[redacted]"

// Config is how a riacho process reaches its Kafka cluster. It is read from
// RIACHO_KAFKA_* environment variables (see LoadConfig) and is meant to be
// embedded in each service's own configuration struct.
//
// The SASL password never appears in String, GoString, LogValue or in any
// error this package returns.
type Config struct {
	// Brokers are the seed brokers as host:port (RIACHO_KAFKA_BROKERS, comma separated).
	Brokers []string `env:"RIACHO_KAFKA_BROKERS, default=127.0.0.1:9092"`
	// ClientID is the client.id sent to the brokers (RIACHO_KAFKA_CLIENT_ID).
	ClientID string `env:"RIACHO_KAFKA_CLIENT_ID, default=riacho"`

	// TLS turns TLS on for every broker connection (RIACHO_KAFKA_TLS).
	TLS bool `env:"RIACHO_KAFKA_TLS, default=false"`
	// TLSCAFile is a PEM bundle of CAs to trust instead of the system pool (RIACHO_KAFKA_TLS_CA_FILE).
	TLSCAFile string `env:"RIACHO_KAFKA_TLS_CA_FILE"`
	// TLSCertFile is the PEM client certificate for mutual TLS (RIACHO_KAFKA_TLS_CERT_FILE).
	TLSCertFile string `env:"RIACHO_KAFKA_TLS_CERT_FILE"`
	// TLSKeyFile is the PEM key of TLSCertFile (RIACHO_KAFKA_TLS_KEY_FILE).
	TLSKeyFile string `env:"RIACHO_KAFKA_TLS_KEY_FILE"`
	// TLSInsecureSkipVerify disables server certificate checks; for tests only (RIACHO_KAFKA_TLS_INSECURE_SKIP_VERIFY).
	TLSInsecureSkipVerify bool `env:"RIACHO_KAFKA_TLS_INSECURE_SKIP_VERIFY, default=false"`

	// SASLMechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (RIACHO_KAFKA_SASL_MECHANISM).
	SASLMechanism string `env:"RIACHO_KAFKA_SASL_MECHANISM"`
	// SASLUsername is the SASL user (RIACHO_KAFKA_SASL_USERNAME).
	SASLUsername string `env:"RIACHO_KAFKA_SASL_USERNAME"`
	// SASLPassword is the SASL password (RIACHO_KAFKA_SASL_PASSWORD); prefer SASLPasswordFile.
	SASLPassword string `env:"RIACHO_KAFKA_SASL_PASSWORD" json:"-"`
	// SASLPasswordFile is a file holding the SASL password (RIACHO_KAFKA_SASL_PASSWORD_FILE).
	SASLPasswordFile string `env:"RIACHO_KAFKA_SASL_PASSWORD_FILE"`

	// DialTimeout bounds connecting to one broker (RIACHO_KAFKA_DIAL_TIMEOUT).
	DialTimeout time.Duration `env:"RIACHO_KAFKA_DIAL_TIMEOUT, default=10s"`
	// RequestTimeout is added to each request's own timeout before the
	// client gives up on a broker's answer (RIACHO_KAFKA_REQUEST_TIMEOUT).
	RequestTimeout time.Duration `env:"RIACHO_KAFKA_REQUEST_TIMEOUT, default=10s"`
}

// DefaultConfig returns the configuration used when no RIACHO_KAFKA_*
// variable is set: a plaintext broker at 127.0.0.1:9092.
func DefaultConfig() Config {
	return Config{
		Brokers:        []string{"127.0.0.1:9092"},
		ClientID:       "riacho",
		DialTimeout:    10 * time.Second,
		RequestTimeout: 10 * time.Second,
	}
}

// LoadConfig reads a Config from the environment through l (the process
// environment when l is nil) and validates it.
func LoadConfig(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	if l == nil {
		l = envconfig.OsLookuper()
	}
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: l}); err != nil {
		return Config{}, fmt.Errorf("kafka config: %s%w", envVarOf(err), err)
	}
	c.normalize()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// envVarOf returns "RIACHO_X: " for a go-envconfig error that starts with a
// Config field name (its parse errors name the field, not the variable).
func envVarOf(err error) string {
	msg := err.Error()
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if !strings.HasPrefix(msg, f.Name+":") {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		return strings.TrimSpace(name) + ": "
	}
	return ""
}

// normalize trims broker entries and upper-cases the SASL mechanism.
func (c *Config) normalize() {
	bs := c.Brokers[:0:0]
	for _, b := range c.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			bs = append(bs, b)
		}
	}
	c.Brokers = bs
	c.SASLMechanism = strings.ToUpper(strings.TrimSpace(c.SASLMechanism))
}

// Validate reports every problem in c, each naming its environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(c.Brokers) == 0 {
		bad("RIACHO_KAFKA_BROKERS: at least one broker host:port is required")
	}
	for _, b := range c.Brokers {
		if err := checkHostPort(b); err != nil {
			bad("RIACHO_KAFKA_BROKERS: %q: %w", b, err)
		}
	}
	if c.DialTimeout <= 0 {
		bad("RIACHO_KAFKA_DIAL_TIMEOUT: must be positive, got %s", c.DialTimeout)
	}
	if c.RequestTimeout <= 0 {
		bad("RIACHO_KAFKA_REQUEST_TIMEOUT: must be positive, got %s", c.RequestTimeout)
	}

	if !c.TLS {
		for _, f := range []struct{ name, val string }{
			{"RIACHO_KAFKA_TLS_CA_FILE", c.TLSCAFile},
			{"RIACHO_KAFKA_TLS_CERT_FILE", c.TLSCertFile},
			{"RIACHO_KAFKA_TLS_KEY_FILE", c.TLSKeyFile},
		} {
			if f.val != "" {
				bad("%s: set but RIACHO_KAFKA_TLS is false", f.name)
			}
		}
		if c.TLSInsecureSkipVerify {
			bad("RIACHO_KAFKA_TLS_INSECURE_SKIP_VERIFY: set but RIACHO_KAFKA_TLS is false")
		}
	}
	if c.TLSCertFile != "" && c.TLSKeyFile == "" {
		bad("RIACHO_KAFKA_TLS_KEY_FILE: required with RIACHO_KAFKA_TLS_CERT_FILE")
	}
	if c.TLSKeyFile != "" && c.TLSCertFile == "" {
		bad("RIACHO_KAFKA_TLS_CERT_FILE: required with RIACHO_KAFKA_TLS_KEY_FILE")
	}

	switch mech := strings.ToUpper(c.SASLMechanism); mech {
	case "":
		if c.SASLUsername != "" {
			bad("RIACHO_KAFKA_SASL_USERNAME: set but RIACHO_KAFKA_SASL_MECHANISM is empty")
		}
		if c.SASLPassword != "" {
			bad("RIACHO_KAFKA_SASL_PASSWORD: set but RIACHO_KAFKA_SASL_MECHANISM is empty")
		}
		if c.SASLPasswordFile != "" {
			bad("RIACHO_KAFKA_SASL_PASSWORD_FILE: set but RIACHO_KAFKA_SASL_MECHANISM is empty")
		}
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASLUsername == "" {
			bad("RIACHO_KAFKA_SASL_USERNAME: required with RIACHO_KAFKA_SASL_MECHANISM=%s", mech)
		}
		switch {
		case c.SASLPassword == "" && c.SASLPasswordFile == "":
			bad("RIACHO_KAFKA_SASL_PASSWORD or RIACHO_KAFKA_SASL_PASSWORD_FILE: one is required with RIACHO_KAFKA_SASL_MECHANISM=%s", mech)
		case c.SASLPassword != "" && c.SASLPasswordFile != "":
			bad("RIACHO_KAFKA_SASL_PASSWORD and RIACHO_KAFKA_SASL_PASSWORD_FILE: set only one")
		}
	default:
		bad("RIACHO_KAFKA_SASL_MECHANISM: %q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", c.SASLMechanism)
	}
	return errors.Join(errs...)
}

// checkHostPort accepts host:port with a port in 1..65535.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want host:port")
	}
	if host == "" {
		return errors.New("empty host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return errors.New("port must be 1..65535")
	}
	return nil
}

// String describes c with the password redacted.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kafka{brokers=%s client_id=%q", strings.Join(c.Brokers, ","), c.ClientID)
	if c.TLS {
		fmt.Fprintf(&b, " tls=true ca=%q cert=%q insecure=%t", c.TLSCAFile, c.TLSCertFile, c.TLSInsecureSkipVerify)
	}
	if c.SASLMechanism != "" {
		fmt.Fprintf(&b, " sasl=%s user=%q", c.SASLMechanism, c.SASLUsername)
		switch {
		case c.SASLPasswordFile != "":
			fmt.Fprintf(&b, " password_file=%q", c.SASLPasswordFile)
		case c.SASLPassword != "":
			b.WriteString(" password=" + redacted)
		}
	}
	fmt.Fprintf(&b, " dial_timeout=%s request_timeout=%s}", c.DialTimeout, c.RequestTimeout)
	return b.String()
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

// LogValue lets slog print c without its password.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Any("brokers", c.Brokers),
		slog.String("client_id", c.ClientID),
		slog.Bool("tls", c.TLS),
	}
	if c.SASLMechanism != "" {
		attrs = append(attrs, slog.String("sasl", c.SASLMechanism), slog.String("user", c.SASLUsername))
		if c.SASLPassword != "" {
			attrs = append(attrs, slog.String("password", redacted))
		}
	}
	return slog.GroupValue(attrs...)
}
