package app

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/telemetry"
	"github.com/riacho/riacho/services/quality/internal/alert"
	"github.com/riacho/riacho/services/quality/internal/gate"
)

// Config is the quality service's configuration, read from RIACHO_*
// environment variables. Suites live in the suites directory.
type Config struct {
	// Suites is the directory of Great Expectations suites (JSON/YAML) and
	// dbt schema files.
	Suites string `env:"RIACHO_QUALITY_SUITES, default=quality"`
	// Window is the tumbling window of set-level expectations.
	Window time.Duration `env:"RIACHO_QUALITY_WINDOW, default=1m"`
	// GroupPrefix names each model's consumer group "<prefix>.<model>".
	GroupPrefix string `env:"RIACHO_QUALITY_GROUP_PREFIX, default=riacho-quality"`
	// InstanceID is part of transactional and static member ids (host name when empty).
	InstanceID string `env:"RIACHO_QUALITY_INSTANCE_ID"`
	// ResultsTopic receives the window validation results.
	ResultsTopic string `env:"RIACHO_QUALITY_RESULTS_TOPIC, default=quality.results"`
	// OutputPartitions is the partition count of created curated and quarantine topics.
	OutputPartitions int32 `env:"RIACHO_QUALITY_OUTPUT_PARTITIONS, default=0"`
	// TransactionTimeout, SessionTimeout and RebalanceTimeout are Kafka's.
	TransactionTimeout time.Duration `env:"RIACHO_QUALITY_TRANSACTION_TIMEOUT, default=1m"`
	SessionTimeout     time.Duration `env:"RIACHO_QUALITY_SESSION_TIMEOUT, default=45s"`
	RebalanceTimeout   time.Duration `env:"RIACHO_QUALITY_REBALANCE_TIMEOUT, default=1m"`
	// FreshnessInterval is how often the raw topics' newest records are checked against the SLAs.
	FreshnessInterval time.Duration `env:"RIACHO_QUALITY_FRESHNESS_INTERVAL, default=30s"`
	// SlackCriticalURL, StewardsURL (StewardsKind slack or teams) and
	// TeamsDevOpsURL are the incoming webhooks of the alert routes; empty
	// leaves a route out.
	SlackCriticalURL telemetry.Secret `env:"RIACHO_QUALITY_SLACK_CRITICAL_URL"`
	StewardsURL      telemetry.Secret `env:"RIACHO_QUALITY_STEWARDS_URL"`
	StewardsKind     string           `env:"RIACHO_QUALITY_STEWARDS_KIND, default=slack"`
	TeamsDevOpsURL   telemetry.Secret `env:"RIACHO_QUALITY_TEAMS_DEVOPS_URL"`
	// OpsAddr serves /metrics, /healthz and /readyz.
	OpsAddr string `env:"RIACHO_QUALITY_OPS_ADDR, default=127.0.0.1:9205"`
	// ShutdownTimeout bounds the drain at shutdown.
	ShutdownTimeout time.Duration `env:"RIACHO_QUALITY_SHUTDOWN_TIMEOUT, default=30s"`

	Kafka     kafka.Config
	Registry  avro.RegistryConfig
	Control   control.Config
	Telemetry telemetry.Config
	// Lineage sends an OpenLineage run per validation window of every
	// model (off unless RIACHO_LINEAGE_URL or RIACHO_LINEAGE_TOPIC is set).
	Lineage lineage.Config
}

// Validate reports every problem, each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if st, err := os.Stat(c.Suites); err != nil || !st.IsDir() {
		errs = append(errs, fmt.Errorf("RIACHO_QUALITY_SUITES %q is not a directory", c.Suites))
	}
	if c.Window < time.Second {
		errs = append(errs, fmt.Errorf("RIACHO_QUALITY_WINDOW %s must be at least 1s", c.Window))
	}
	if strings.TrimSpace(c.GroupPrefix) == "" || strings.TrimSpace(c.ResultsTopic) == "" {
		errs = append(errs, errors.New("RIACHO_QUALITY_GROUP_PREFIX and RIACHO_QUALITY_RESULTS_TOPIC must not be empty"))
	}
	if c.TransactionTimeout < time.Second || c.SessionTimeout < time.Second || c.RebalanceTimeout < time.Second {
		errs = append(errs, errors.New("RIACHO_QUALITY_TRANSACTION_TIMEOUT, RIACHO_QUALITY_SESSION_TIMEOUT and RIACHO_QUALITY_REBALANCE_TIMEOUT must be at least 1s"))
	}
	if c.FreshnessInterval < time.Second {
		errs = append(errs, fmt.Errorf("RIACHO_QUALITY_FRESHNESS_INTERVAL %s must be at least 1s", c.FreshnessInterval))
	}
	if c.StewardsKind != alert.ServiceSlack && c.StewardsKind != alert.ServiceTeams {
		errs = append(errs, fmt.Errorf("RIACHO_QUALITY_STEWARDS_KIND %q must be slack or teams", c.StewardsKind))
	}
	if _, _, err := net.SplitHostPort(c.OpsAddr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_QUALITY_OPS_ADDR %q: %w", c.OpsAddr, err))
	}
	for _, v := range []error{c.Kafka.Validate(), c.Registry.Validate(), c.Control.Validate(), c.Lineage.Validate()} {
		if v != nil {
			errs = append(errs, v)
		}
	}
	return errors.Join(errs...)
}

// GateConfig is the gate's share of the configuration.
func (c *Config) GateConfig() gate.Config {
	g := gate.DefaultConfig()
	g.GroupPrefix, g.ResultsTopic, g.Window = c.GroupPrefix, c.ResultsTopic, c.Window
	g.InstanceID = c.InstanceID
	if g.InstanceID == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			g.InstanceID = h
		}
	}
	g.OutputPartitions = c.OutputPartitions
	g.TransactionTimeout, g.SessionTimeout, g.RebalanceTimeout = c.TransactionTimeout, c.SessionTimeout, c.RebalanceTimeout
	return g
}

// Routes are the alert routes configured.
func (c *Config) Routes() []alert.Route {
	return alert.DefaultRoutes(alert.Channels{
		SlackCritical: string(c.SlackCriticalURL), Stewards: string(c.StewardsURL),
		StewardsKind: c.StewardsKind, TeamsDevOps: string(c.TeamsDevOpsURL),
	})
}
