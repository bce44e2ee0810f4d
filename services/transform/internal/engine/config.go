package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
)

// Config is the engine's share of the transform configuration.
type Config struct {
	// GroupPrefix names each model's consumer group "<GroupPrefix>.<model>".
	GroupPrefix string
	// InstanceID is part of every transactional id
	// ("<GroupPrefix>.<model>.<InstanceID>"); unique per running replica,
	// stable across its restarts so a restarted replica fences its zombie.
	InstanceID string
	// DLQTopic receives the records that cannot be transformed.
	DLQTopic string
	// Masking applies the models' masking policies to their outputs.
	Masking bool
	// MaskKey is the key of the "hash" masking policy (HMAC-SHA256).
	MaskKey []byte
	// OutputPartitions is the partition count of output topics the engine
	// creates (0: the broker's default).
	OutputPartitions int32
	// TransactionTimeout bounds one batch's transaction on the broker.
	TransactionTimeout time.Duration
	// RetryBackoff is the wait before a failed model loop starts again.
	RetryBackoff time.Duration
	// DuckDBThreads is each model's DuckDB thread count (0: DuckDB's default).
	DuckDBThreads int
	// SessionTimeout and RebalanceTimeout are the model groups' timeouts.
	SessionTimeout, RebalanceTimeout time.Duration
}

// DefaultConfig returns the defaults the service starts from.
func DefaultConfig() Config {
	return Config{
		GroupPrefix:        "riacho-transform",
		InstanceID:         "0",
		DLQTopic:           "dlq.transform",
		TransactionTimeout: time.Minute,
		RetryBackoff:       2 * time.Second,
		SessionTimeout:     45 * time.Second,
		RebalanceTimeout:   time.Minute,
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.GroupPrefix == "" {
		errs = append(errs, errors.New("group prefix must not be empty"))
	}
	if c.InstanceID == "" {
		errs = append(errs, errors.New("instance id must not be empty"))
	}
	if c.DLQTopic == "" {
		errs = append(errs, errors.New("dead-letter topic must not be empty"))
	}
	if len(c.MaskKey) > 0 && len(c.MaskKey) < 16 {
		errs = append(errs, fmt.Errorf("the masking key must have at least 16 bytes (got %d)", len(c.MaskKey)))
	}
	if c.TransactionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("transaction timeout %s is below 1s", c.TransactionTimeout))
	}
	if c.RetryBackoff <= 0 {
		errs = append(errs, fmt.Errorf("retry backoff %s must be positive", c.RetryBackoff))
	}
	if c.SessionTimeout < time.Second || c.RebalanceTimeout < time.Second {
		errs = append(errs, fmt.Errorf("session timeout %s and rebalance timeout %s must be at least 1s", c.SessionTimeout, c.RebalanceTimeout))
	}
	if c.OutputPartitions < 0 {
		errs = append(errs, fmt.Errorf("output partitions %d must not be negative", c.OutputPartitions))
	}
	return errors.Join(errs...)
}

// Deps are the engine's injected dependencies.
type Deps struct {
	Kafka      kafka.Config
	Registry   *avro.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// OnBatch, when set, is called after each committed batch of a model
	// with the records it read and wrote (on the model's goroutine).
	OnBatch func(model string, in, out int64)
	// OnFailure, when set, is called when a model's loop fails, before it
	// starts again after the backoff.
	OnFailure func(model string, err error)
}
