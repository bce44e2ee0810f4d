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
)

// Config is the CDC service's wiring, read from RIACHO_* environment
// variables. What to capture lives in the sources file (RIACHO_CDC_CONFIG).
type Config struct {
	// SourcesFile is the YAML file naming the sources to capture.
	SourcesFile string `env:"RIACHO_CDC_CONFIG"`
	// OpsAddr serves /metrics, /healthz and /readyz.
	OpsAddr string `env:"RIACHO_CDC_OPS_ADDR, default=127.0.0.1:9202"`
	// StateTopic is the compacted topic holding cursors, slot and snapshot progress.
	StateTopic string `env:"RIACHO_CDC_STATE_TOPIC, default=_riacho_cdc_state"`
	// DLQTopic receives changes that cannot be encoded, with the reason.
	DLQTopic string `env:"RIACHO_CDC_DLQ_TOPIC, default=dlq.cdc"`
	// TopicPartitions is the partition count of topics the service creates.
	TopicPartitions int32 `env:"RIACHO_CDC_TOPIC_PARTITIONS, default=3"`
	// TopicReplication is the replication factor of topics it creates (0: broker default).
	TopicReplication int16 `env:"RIACHO_CDC_TOPIC_REPLICATION, default=0"`
	// RestartBackoff is the first wait before a failed source is started again
	// (doubling up to a minute).
	RestartBackoff time.Duration `env:"RIACHO_CDC_RESTART_BACKOFF, default=1s"`
	// ShutdownTimeout bounds the flush of produced records at shutdown.
	ShutdownTimeout time.Duration `env:"RIACHO_CDC_SHUTDOWN_TIMEOUT, default=20s"`

	Kafka     kafka.Config
	Registry  avro.RegistryConfig
	Control   control.Config
	Telemetry telemetry.Config
}

// Validate reports every configuration problem at once, each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.OpsAddr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_CDC_OPS_ADDR %q: %w", c.OpsAddr, err))
	}
	if c.StateTopic == "" {
		errs = append(errs, errors.New("RIACHO_CDC_STATE_TOPIC must not be empty"))
	}
	if c.DLQTopic == "" {
		errs = append(errs, errors.New("RIACHO_CDC_DLQ_TOPIC must not be empty"))
	}
	if c.TopicPartitions <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_CDC_TOPIC_PARTITIONS must be positive, got %d", c.TopicPartitions))
	}
	if c.TopicReplication < 0 {
		errs = append(errs, fmt.Errorf("RIACHO_CDC_TOPIC_REPLICATION must not be negative, got %d", c.TopicReplication))
	}
	if c.RestartBackoff <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_CDC_RESTART_BACKOFF must be positive, got %s", c.RestartBackoff))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_CDC_SHUTDOWN_TIMEOUT must be positive, got %s", c.ShutdownTimeout))
	}
	if len(c.Kafka.Brokers) == 0 {
		errs = append(errs, errors.New("RIACHO_KAFKA_BROKERS must name at least one broker"))
	}
	if c.Registry.URL == "" {
		errs = append(errs, errors.New("RIACHO_SCHEMA_REGISTRY_URL must be set"))
	}
	return errors.Join(errs...)
}
