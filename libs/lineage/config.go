package lineage

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/riacho/riacho/libs/telemetry"
)

// Defaults of Config.
const (
	DefaultNamespace = "riacho"
	DefaultQueueSize = 1000
	DefaultTimeout   = 10 * time.Second
	DefaultRetries   = 5
	DefaultInterval  = time.Minute
)

// Config says where run events go. It is read from RIACHO_LINEAGE_*
// variables and embedded in each service's configuration. With neither URL
// nor Topic set, lineage is off.
type Config struct {
	// URL is the OpenLineage HTTP endpoint events are POSTed to, e.g.
	// http://marquez:5000/api/v1/lineage (RIACHO_LINEAGE_URL).
	URL string `env:"RIACHO_LINEAGE_URL"`
	// Topic is a Kafka topic events are produced to as JSON keyed by job
	// name, through the service's own Kafka configuration; created when
	// missing (RIACHO_LINEAGE_TOPIC, e.g. _lineage).
	Topic string `env:"RIACHO_LINEAGE_TOPIC"`
	// Namespace is the namespace of every job (RIACHO_LINEAGE_NAMESPACE).
	Namespace string `env:"RIACHO_LINEAGE_NAMESPACE, default=riacho"`
	// Token, when set, is sent as "Authorization: Bearer <token>" to URL
	// (RIACHO_LINEAGE_TOKEN).
	Token telemetry.Secret `env:"RIACHO_LINEAGE_TOKEN"`
	// QueueSize bounds the events waiting to be sent; a full queue drops
	// the new event and counts it (RIACHO_LINEAGE_QUEUE_SIZE).
	QueueSize int `env:"RIACHO_LINEAGE_QUEUE_SIZE, default=1000"`
	// Timeout bounds one attempt to send one event (RIACHO_LINEAGE_TIMEOUT).
	Timeout time.Duration `env:"RIACHO_LINEAGE_TIMEOUT, default=10s"`
	// Retries is how often a failed send (HTTP 5xx or 429, a transport or
	// broker error) is tried again, with exponential backoff, before the
	// event is counted as failed (RIACHO_LINEAGE_RETRIES).
	Retries int `env:"RIACHO_LINEAGE_RETRIES, default=5"`
	// Interval is the longest run of a job whose commits are grouped into
	// windows (transform models, the metrics loader): its COMPLETE is
	// emitted at most this long after its START (RIACHO_LINEAGE_INTERVAL).
	Interval time.Duration `env:"RIACHO_LINEAGE_INTERVAL, default=1m"`
}

// DefaultConfig is the configuration with lineage off and every other
// field at its default.
func DefaultConfig() Config {
	return Config{
		Namespace: DefaultNamespace, QueueSize: DefaultQueueSize, Timeout: DefaultTimeout,
		Retries: DefaultRetries, Interval: DefaultInterval,
	}
}

// Enabled reports whether events go anywhere.
func (c Config) Enabled() bool {
	return strings.TrimSpace(c.URL) != "" || strings.TrimSpace(c.Topic) != ""
}

// Validate reports every problem in c, each naming its variable. A
// disabled configuration is checked too, so a typo shows before lineage is
// turned on.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		switch {
		case err != nil:
			bad("RIACHO_LINEAGE_URL %q: %w", telemetry.RedactURL(c.URL), err)
		case u.Scheme != "http" && u.Scheme != "https":
			bad("RIACHO_LINEAGE_URL %q: want an http:// or https:// URL", telemetry.RedactURL(c.URL))
		case u.Host == "":
			bad("RIACHO_LINEAGE_URL %q: no host", telemetry.RedactURL(c.URL))
		}
	}
	if c.Topic != "" && strings.ContainsAny(c.Topic, " /\\,") {
		bad("RIACHO_LINEAGE_TOPIC %q is not a Kafka topic name", c.Topic)
	}
	if c.Token != "" && c.URL == "" {
		bad("RIACHO_LINEAGE_TOKEN: set but RIACHO_LINEAGE_URL is empty")
	}
	if strings.TrimSpace(c.Namespace) == "" {
		bad("RIACHO_LINEAGE_NAMESPACE must not be empty")
	}
	if c.QueueSize < 1 {
		bad("RIACHO_LINEAGE_QUEUE_SIZE must be at least 1, got %d", c.QueueSize)
	}
	if c.Timeout <= 0 {
		bad("RIACHO_LINEAGE_TIMEOUT must be positive, got %s", c.Timeout)
	}
	if c.Retries < 0 {
		bad("RIACHO_LINEAGE_RETRIES must not be negative, got %d", c.Retries)
	}
	if c.Interval <= 0 {
		bad("RIACHO_LINEAGE_INTERVAL must be positive, got %s", c.Interval)
	}
	return errors.Join(errs...)
}

// LogValue lets slog print c without its token.
func (c Config) LogValue() slog.Value {
	if !c.Enabled() {
		return slog.GroupValue(slog.Bool("enabled", false))
	}
	return slog.GroupValue(
		slog.String("url", telemetry.RedactURL(c.URL)),
		slog.String("topic", c.Topic),
		slog.String("namespace", c.Namespace),
		slog.Bool("token", c.Token != ""),
	)
}
