package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// Config is the telemetry configuration read from the environment.
type Config struct {
	// LogLevel is the minimum log level: debug, info, warn or error.
	LogLevel string `env:"RIACHO_LOG_LEVEL, default=info"`
	// LogFormat is the log encoding: json or text.
	LogFormat string `env:"RIACHO_LOG_FORMAT, default=json"`
	// OTLPEndpoint is the riacho-specific OTLP gRPC endpoint; it wins over OTELEndpoint.
	OTLPEndpoint string `env:"RIACHO_OTLP_ENDPOINT"`
	// OTELEndpoint is the standard OpenTelemetry OTLP endpoint variable.
	OTELEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// OTLPInsecure sends traces in plaintext to an endpoint given as bare host:port
	// (an endpoint URL decides by its scheme: http is plaintext, https is TLS).
	OTLPInsecure bool `env:"RIACHO_OTLP_INSECURE, default=false"`
	// ServiceName overrides the service name passed to Setup.
	ServiceName string `env:"OTEL_SERVICE_NAME"`
	// TraceSampleRatio is the fraction of new traces that are sampled (0..1);
	// spans with a parent follow the parent's decision.
	TraceSampleRatio float64 `env:"RIACHO_TRACE_SAMPLE_RATIO, default=1"`
	// LogOutput is where logs are written; nil means os.Stderr. Not read from the environment.
	LogOutput io.Writer
}

// LoadConfig reads a Config from l, or from the process environment when l is nil.
func LoadConfig(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	var cfg Config
	if l == nil {
		l = envconfig.OsLookuper()
	}
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: l}); err != nil {
		return Config{}, fmt.Errorf("read telemetry config: %w", err)
	}
	return cfg, nil
}

// Endpoint returns the OTLP endpoint in effect, or "" when trace export is off.
func (c Config) Endpoint() string {
	if e := strings.TrimSpace(c.OTLPEndpoint); e != "" {
		return e
	}
	return strings.TrimSpace(c.OTELEndpoint)
}

// Validate reports every problem in c, each naming its environment variable.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_LOG_LEVEL: %w", err))
	}
	if _, err := parseFormat(c.LogFormat); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_LOG_FORMAT: %w", err))
	}
	if e := c.Endpoint(); e != "" {
		name := "RIACHO_OTLP_ENDPOINT"
		if strings.TrimSpace(c.OTLPEndpoint) == "" {
			name = "OTEL_EXPORTER_OTLP_ENDPOINT"
		}
		if _, err := parseEndpoint(e, c.OTLPInsecure); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if c.TraceSampleRatio < 0 || c.TraceSampleRatio > 1 || c.TraceSampleRatio != c.TraceSampleRatio {
		errs = append(errs, fmt.Errorf("RIACHO_TRACE_SAMPLE_RATIO: %v is outside 0..1", c.TraceSampleRatio))
	}
	return errors.Join(errs...)
}

// otlpTarget is a parsed OTLP endpoint.
type otlpTarget struct {
	hostPort string
	insecure bool
}

// parseEndpoint accepts "host:port" or an http(s) URL.
func parseEndpoint(e string, insecure bool) (otlpTarget, error) {
	if strings.Contains(e, "://") {
		u, err := url.Parse(e)
		if err != nil {
			return otlpTarget{}, fmt.Errorf("parse endpoint %q: %w", e, err)
		}
		switch u.Scheme {
		case "http", "https":
		default:
			return otlpTarget{}, fmt.Errorf("endpoint %q: scheme must be http or https", e)
		}
		if u.Host == "" {
			return otlpTarget{}, fmt.Errorf("endpoint %q has no host", e)
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "4317")
		}
		return otlpTarget{hostPort: host, insecure: u.Scheme == "http"}, nil
	}
	host, port, err := net.SplitHostPort(e)
	if err != nil {
		return otlpTarget{}, fmt.Errorf("endpoint %q is neither host:port nor a URL: %w", e, err)
	}
	if host == "" || port == "" {
		return otlpTarget{}, fmt.Errorf("endpoint %q needs a host and a port", e)
	}
	return otlpTarget{hostPort: e, insecure: insecure}, nil
}
