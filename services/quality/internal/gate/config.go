package gate

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/quality/internal/expect"
)

// Config is the gate's share of the quality configuration.
type Config struct {
	// GroupPrefix names each model's consumer group "<GroupPrefix>.<model>".
	GroupPrefix string
	// InstanceID is part of transactional and static member ids; unique per
	// replica, stable across its restarts.
	InstanceID string
	// ResultsTopic receives the window validation results.
	ResultsTopic string
	// Window is the tumbling window of set-level expectations.
	Window time.Duration
	// MaxRecords and Linger bound a batch.
	MaxRecords int
	Linger     time.Duration
	// TransactionTimeout, SessionTimeout and RebalanceTimeout are Kafka's.
	TransactionTimeout, SessionTimeout, RebalanceTimeout time.Duration
	// RetryBackoff is the wait before a failed model loop starts again.
	RetryBackoff time.Duration
	// OutputPartitions is the partition count of created topics (0: broker default).
	OutputPartitions int32
}

// DefaultConfig returns the defaults the service starts from.
func DefaultConfig() Config {
	return Config{
		GroupPrefix:        "riacho-quality",
		InstanceID:         "0",
		ResultsTopic:       "quality.results",
		Window:             time.Minute,
		MaxRecords:         10000,
		Linger:             200 * time.Millisecond,
		TransactionTimeout: time.Minute,
		SessionTimeout:     45 * time.Second,
		RebalanceTimeout:   time.Minute,
		RetryBackoff:       2 * time.Second,
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.GroupPrefix == "" || c.InstanceID == "" || c.ResultsTopic == "" {
		errs = append(errs, errors.New("group prefix, instance id and results topic must not be empty"))
	}
	if c.Window < time.Second {
		errs = append(errs, fmt.Errorf("window %s is below 1s", c.Window))
	}
	if c.MaxRecords < 1 || c.Linger <= 0 {
		errs = append(errs, fmt.Errorf("max records %d and linger %s must be positive", c.MaxRecords, c.Linger))
	}
	if c.TransactionTimeout < time.Second || c.SessionTimeout < time.Second || c.RebalanceTimeout < time.Second {
		errs = append(errs, errors.New("transaction, session and rebalance timeouts must be at least 1s"))
	}
	if c.RetryBackoff <= 0 {
		errs = append(errs, errors.New("retry backoff must be positive"))
	}
	return errors.Join(errs...)
}

// Deps are the gate's injected dependencies.
type Deps struct {
	Kafka      kafka.Config
	Registry   *avro.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// OnResult, when set, sees every committed window result.
	OnResult func(model, suite string, r expect.SuiteResult)
	// OnError, when set, sees every failure of a model's loop.
	OnError func(model string, err error)
	// OnCommit, when set, sees every committed batch: the records it sent
	// to curated and quarantine and how many windows it closed.
	OnCommit func(model string, curated, quarantined int64, windowsClosed int)
}
