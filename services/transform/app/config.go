package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/telemetry"
	"github.com/riacho/riacho/services/transform/internal/engine"
	"github.com/riacho/riacho/services/transform/internal/project"
)

// Config is the transform's configuration, read from RIACHO_* environment
// variables. Models themselves live in the project directory.
type Config struct {
	// Project is the dbt-style project directory (dbt_project.yml and
	// models/**/*.sql with their YAML).
	Project string `env:"RIACHO_TRANSFORM_PROJECT, default=transform"`
	// Vars overrides the project's vars, as YAML or JSON (like dbt --vars).
	Vars string `env:"RIACHO_TRANSFORM_VARS"`
	// Target is target.name in the models (dev, prod, ...).
	Target string `env:"RIACHO_TRANSFORM_TARGET, default=dev"`
	// Env is the deployment environment; masking is on unless it is
	// "production" or "prod" (see Masking).
	Env string `env:"RIACHO_ENV, default=development"`
	// Masking applies the models' masking policies: auto (on outside
	// production), on or off.
	Masking string `env:"RIACHO_TRANSFORM_MASKING, default=auto"`
	// MaskKey is the key of the hash masking policy (at least 16 bytes);
	// MaskKeyFile reads it from a file instead.
	MaskKey     telemetry.Secret `env:"RIACHO_TRANSFORM_MASK_KEY"`
	MaskKeyFile string           `env:"RIACHO_TRANSFORM_MASK_KEY_FILE"`
	// GroupPrefix names each model's consumer group "<prefix>.<model>".
	GroupPrefix string `env:"RIACHO_TRANSFORM_GROUP_PREFIX, default=riacho-transform"`
	// InstanceID is part of the transactional ids; unique per replica and
	// stable across its restarts (the pod name on Kubernetes). Empty: the
	// host name.
	InstanceID string `env:"RIACHO_TRANSFORM_INSTANCE_ID"`
	// DLQTopic receives records that cannot be transformed.
	DLQTopic string `env:"RIACHO_TRANSFORM_DLQ_TOPIC, default=dlq.transform"`
	// OutputPartitions is the partition count of the staging topics created
	// (0: the broker's default); a model's riacho.partitions wins.
	OutputPartitions int32 `env:"RIACHO_TRANSFORM_OUTPUT_PARTITIONS, default=0"`
	// TransactionTimeout bounds one batch's Kafka transaction.
	TransactionTimeout time.Duration `env:"RIACHO_TRANSFORM_TRANSACTION_TIMEOUT, default=1m"`
	// RetryBackoff is the wait before a failed model starts again.
	RetryBackoff time.Duration `env:"RIACHO_TRANSFORM_RETRY_BACKOFF, default=2s"`
	// SessionTimeout and RebalanceTimeout are the model groups' timeouts: a
	// replica that dies without leaving is noticed after SessionTimeout.
	SessionTimeout   time.Duration `env:"RIACHO_TRANSFORM_SESSION_TIMEOUT, default=45s"`
	RebalanceTimeout time.Duration `env:"RIACHO_TRANSFORM_REBALANCE_TIMEOUT, default=1m"`
	// DuckDBThreads is each model's DuckDB thread count (0: all cores).
	DuckDBThreads int `env:"RIACHO_TRANSFORM_DUCKDB_THREADS, default=0"`
	// OpsAddr serves /metrics, /healthz and /readyz.
	OpsAddr string `env:"RIACHO_TRANSFORM_OPS_ADDR, default=127.0.0.1:9204"`
	// ShutdownTimeout bounds the drain at shutdown.
	ShutdownTimeout time.Duration `env:"RIACHO_TRANSFORM_SHUTDOWN_TIMEOUT, default=30s"`

	Kafka     kafka.Config
	Registry  avro.RegistryConfig
	Control   control.Config
	Telemetry telemetry.Config
	// Lineage sends OpenLineage runs of every model, grouped by
	// RIACHO_LINEAGE_INTERVAL (off unless RIACHO_LINEAGE_URL or
	// RIACHO_LINEAGE_TOPIC is set).
	Lineage lineage.Config
}

// Validate reports every problem, each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if st, err := os.Stat(c.Project); err != nil || !st.IsDir() {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_PROJECT %q is not a directory", c.Project))
	}
	if _, err := c.ProjectVars(); err != nil {
		errs = append(errs, err)
	}
	switch c.Masking {
	case "auto", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_MASKING %q must be auto, on or off", c.Masking))
	}
	if _, err := c.maskKey(); err != nil {
		errs = append(errs, err)
	}
	if c.OutputPartitions < 0 {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_OUTPUT_PARTITIONS %d must not be negative", c.OutputPartitions))
	}
	if c.TransactionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_TRANSACTION_TIMEOUT %s must be at least 1s", c.TransactionTimeout))
	}
	if c.RetryBackoff <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_RETRY_BACKOFF %s must be positive", c.RetryBackoff))
	}
	if c.SessionTimeout < time.Second || c.RebalanceTimeout < time.Second {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_SESSION_TIMEOUT %s and RIACHO_TRANSFORM_REBALANCE_TIMEOUT %s must be at least 1s", c.SessionTimeout, c.RebalanceTimeout))
	}
	if c.DuckDBThreads < 0 {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_DUCKDB_THREADS %d must not be negative", c.DuckDBThreads))
	}
	for name, v := range map[string]string{"RIACHO_TRANSFORM_GROUP_PREFIX": c.GroupPrefix, "RIACHO_TRANSFORM_DLQ_TOPIC": c.DLQTopic} {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("%s must not be empty", name))
		}
	}
	if _, _, err := net.SplitHostPort(c.OpsAddr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_OPS_ADDR %q: %w", c.OpsAddr, err))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_TRANSFORM_SHUTDOWN_TIMEOUT %s must be positive", c.ShutdownTimeout))
	}
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Registry.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Control.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Lineage.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// MaskingOn reports whether masking policies apply.
func (c *Config) MaskingOn() bool {
	switch c.Masking {
	case "on":
		return true
	case "off":
		return false
	}
	env := strings.ToLower(strings.TrimSpace(c.Env))
	return env != "production" && env != "prod"
}

func (c *Config) maskKey() ([]byte, error) {
	key := string(c.MaskKey)
	if c.MaskKeyFile != "" {
		b, err := os.ReadFile(c.MaskKeyFile)
		if err != nil {
			return nil, fmt.Errorf("RIACHO_TRANSFORM_MASK_KEY_FILE: %w", err)
		}
		key = strings.TrimRight(string(b), "\r\n")
	}
	if key != "" && len(key) < 16 {
		return nil, errors.New("RIACHO_TRANSFORM_MASK_KEY (or RIACHO_TRANSFORM_MASK_KEY_FILE) must hold at least 16 bytes")
	}
	return []byte(key), nil
}

// ProjectVars parses RIACHO_TRANSFORM_VARS.
func (c *Config) ProjectVars() (map[string]any, error) {
	if strings.TrimSpace(c.Vars) == "" {
		return nil, nil
	}
	var vars map[string]any
	if err := yaml.Unmarshal([]byte(c.Vars), &vars); err != nil {
		var j map[string]any
		if jerr := json.Unmarshal([]byte(c.Vars), &j); jerr != nil {
			return nil, fmt.Errorf("RIACHO_TRANSFORM_VARS is not a YAML or JSON mapping: %w", err)
		}
		vars = j
	}
	return vars, nil
}

// ProjectOptions are the options the project is loaded with.
func (c *Config) ProjectOptions() (project.Options, error) {
	vars, err := c.ProjectVars()
	return project.Options{Vars: vars, Target: c.Target}, err
}

// EngineConfig is the engine's share of the configuration.
func (c *Config) EngineConfig() (engine.Config, error) {
	ec := engine.DefaultConfig()
	ec.GroupPrefix = c.GroupPrefix
	ec.InstanceID = c.InstanceID
	if ec.InstanceID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "0"
		}
		ec.InstanceID = h
	}
	ec.DLQTopic = c.DLQTopic
	ec.OutputPartitions = c.OutputPartitions
	ec.TransactionTimeout = c.TransactionTimeout
	ec.RetryBackoff = c.RetryBackoff
	ec.DuckDBThreads = c.DuckDBThreads
	ec.SessionTimeout, ec.RebalanceTimeout = c.SessionTimeout, c.RebalanceTimeout
	if c.MaskingOn() {
		key, err := c.maskKey()
		if err != nil {
			return ec, err
		}
		ec.Masking = true
		if len(key) > 0 {
			ec.MaskKey = key
		}
	}
	return ec, nil
}
