package app

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/telemetry"
	"github.com/riacho/riacho/services/intake/internal/webhook"
)

// DefaultMaxBodyBytes is the default request body limit: WhatsApp sends payloads up to 3 MB.
const DefaultMaxBodyBytes = 3 << 20

// Config is the intake service's configuration, read from RIACHO_* environment variables.
type Config struct {
	// Addr is the HTTP listen address for webhooks, uploads, /metrics and probes.
	Addr string `env:"RIACHO_INTAKE_ADDR, default=127.0.0.1:8080"`
	// MaxBodyBytes limits webhook and event request bodies; larger ones get 413.
	MaxBodyBytes int64 `env:"RIACHO_INTAKE_MAX_BODY_BYTES, default=3145728"`
	// MaxUploadBytes limits spreadsheet uploads; larger ones get 413.
	MaxUploadBytes int64 `env:"RIACHO_INTAKE_MAX_UPLOAD_BYTES, default=33554432"`
	// ProduceTimeout bounds how long a request waits for Kafka acknowledgements before 503.
	ProduceTimeout time.Duration `env:"RIACHO_INTAKE_PRODUCE_TIMEOUT, default=5s"`
	// ProduceLinger is how long the producer waits to batch more records; negative sends at once.
	// Requests wait for their acks, so a linger adds up to its length to their latency; in
	// exchange, under load, fewer and larger produce requests cost the intake and the broker
	// less CPU per record (docs/benchmarks.md: 250µs against sending at once).
	ProduceLinger time.Duration `env:"RIACHO_INTAKE_PRODUCE_LINGER, default=250us"`
	// RetryAfter is the Retry-After value sent with 503 answers.
	RetryAfter time.Duration `env:"RIACHO_INTAKE_RETRY_AFTER, default=5s"`
	// ShutdownTimeout bounds the drain of in-flight requests at shutdown.
	ShutdownTimeout time.Duration `env:"RIACHO_INTAKE_SHUTDOWN_TIMEOUT, default=20s"`
	// TopicPartitions is the partition count of topics the intake creates.
	TopicPartitions int32 `env:"RIACHO_INTAKE_TOPIC_PARTITIONS, default=3"`
	// TopicReplication is the replication factor of topics the intake creates (0: broker default).
	TopicReplication int16 `env:"RIACHO_INTAKE_TOPIC_REPLICATION, default=0"`

	// WhatsAppAppSecret verifies X-Hub-Signature-256 on WhatsApp webhooks.
	WhatsAppAppSecret string `env:"RIACHO_WHATSAPP_APP_SECRET"`
	// WhatsAppVerifyToken answers the WhatsApp GET verification handshake.
	WhatsAppVerifyToken string `env:"RIACHO_WHATSAPP_VERIFY_TOKEN"`
	// MetaAppSecret verifies X-Hub-Signature-256 on Meta Lead Ads webhooks.
	MetaAppSecret string `env:"RIACHO_META_APP_SECRET"`
	// MetaVerifyToken answers the Meta GET verification handshake (defaults to the WhatsApp one).
	MetaVerifyToken string `env:"RIACHO_META_VERIFY_TOKEN"`
	// PloomesValidationKey authenticates Ploomes webhooks (header or body ValidationKey).
	PloomesValidationKey string `env:"RIACHO_PLOOMES_VALIDATION_KEY"`
	// SourceTokens maps a generic source name to the bearer token it must present.
	SourceTokens map[string]string `env:"RIACHO_INTAKE_SOURCE_TOKENS"`
	// SourceHMACSecrets maps a generic source name to its HMAC-SHA256 secret (X-Signature-256).
	SourceHMACSecrets map[string]string `env:"RIACHO_INTAKE_SOURCE_HMAC_SECRETS"`

	Kafka     kafka.Config
	Registry  avro.RegistryConfig
	Control   control.Config
	Telemetry telemetry.Config
}

// Validate reports every configuration problem at once, each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_INTAKE_ADDR %q: %w", c.Addr, err))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_INTAKE_MAX_BODY_BYTES must be positive, got %d", c.MaxBodyBytes))
	}
	if c.MaxUploadBytes <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_INTAKE_MAX_UPLOAD_BYTES must be positive, got %d", c.MaxUploadBytes))
	}
	if c.ProduceTimeout <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_INTAKE_PRODUCE_TIMEOUT must be positive, got %s", c.ProduceTimeout))
	}
	if c.RetryAfter < time.Second {
		errs = append(errs, fmt.Errorf("RIACHO_INTAKE_RETRY_AFTER must be at least 1s, got %s", c.RetryAfter))
	}
	if c.TopicPartitions <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_INTAKE_TOPIC_PARTITIONS must be positive, got %d", c.TopicPartitions))
	}
	if c.TopicReplication < 0 {
		errs = append(errs, fmt.Errorf("RIACHO_INTAKE_TOPIC_REPLICATION must be 0 (broker default) or positive, got %d", c.TopicReplication))
	}
	if c.WhatsAppAppSecret != "" && c.WhatsAppVerifyToken == "" {
		errs = append(errs, errors.New("RIACHO_WHATSAPP_VERIFY_TOKEN is required when RIACHO_WHATSAPP_APP_SECRET is set"))
	}
	if c.WhatsAppAppSecret == "" && c.MetaAppSecret == "" && c.PloomesValidationKey == "" &&
		len(c.SourceTokens) == 0 && len(c.SourceHMACSecrets) == 0 {
		errs = append(errs, errors.New("no source is configured: set RIACHO_WHATSAPP_APP_SECRET, RIACHO_META_APP_SECRET, "+
			"RIACHO_PLOOMES_VALIDATION_KEY, RIACHO_INTAKE_SOURCE_TOKENS or RIACHO_INTAKE_SOURCE_HMAC_SECRETS"))
	}
	for name := range c.SourceTokens {
		if !webhook.ValidName(name) {
			errs = append(errs, fmt.Errorf("RIACHO_INTAKE_SOURCE_TOKENS: invalid source name %q", name))
		}
	}
	for name := range c.SourceHMACSecrets {
		if !webhook.ValidName(name) {
			errs = append(errs, fmt.Errorf("RIACHO_INTAKE_SOURCE_HMAC_SECRETS: invalid source name %q", name))
		}
	}
	for _, v := range []interface{ Validate() error }{c.Kafka, c.Registry, c.Control, c.Telemetry} {
		if err := v.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
