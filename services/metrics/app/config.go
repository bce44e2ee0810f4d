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
)

// Config is the metrics service's configuration, read from RIACHO_*
// environment variables. Content lives in files: the warehouse schema, the
// dbt metric definitions and the access policy.
type Config struct {
	// Warehouse is where curated data is loaded and queried:
	// postgres://… (production) or duckdb://path/file.duckdb (embedded).
	Warehouse telemetry.Secret `env:"RIACHO_METRICS_WAREHOUSE, default=duckdb://warehouse.duckdb"`
	// Schema is the warehouse star schema (warehouse.yml): tables, keys, types, rollups.
	Schema string `env:"RIACHO_METRICS_SCHEMA, default=warehouse.yml"`
	// Definitions is the directory of dbt metric YAML files (models/metrics in a dbt project).
	Definitions string `env:"RIACHO_METRICS_DEFINITIONS, default=models/metrics"`
	// Policy is the access policy (clients, roles); required unless Insecure.
	Policy string `env:"RIACHO_METRICS_POLICY"`
	// Insecure serves every metric to unauthenticated callers (development only).
	Insecure bool `env:"RIACHO_METRICS_INSECURE, default=false"`

	// HTTPAddr serves the REST/JSON face (grpc-gateway); empty turns it off.
	HTTPAddr string `env:"RIACHO_METRICS_HTTP_ADDR, default=127.0.0.1:9306"`
	// TLSCert and TLSKey turn on TLS for the gRPC API; TLSClientCA verifies
	// client certificates (mTLS), required when TLSRequireClientCert.
	TLSCert              string `env:"RIACHO_METRICS_TLS_CERT"`
	TLSKey               string `env:"RIACHO_METRICS_TLS_KEY"`
	TLSClientCA          string `env:"RIACHO_METRICS_TLS_CLIENT_CA"`
	TLSRequireClientCert bool   `env:"RIACHO_METRICS_TLS_REQUIRE_CLIENT_CERT, default=false"`
	// AuditLog receives one JSON line per query: a file path, or "stderr" (the default) or "stdout".
	AuditLog string `env:"RIACHO_METRICS_AUDIT_LOG, default=stderr"`

	// Loader turns the warehouse loader on (one loader per warehouse is enough;
	// API-only replicas set it false).
	Loader bool `env:"RIACHO_METRICS_LOADER, default=true"`
	// LoaderConsumer names the loader's offsets in the warehouse (and its consumer group).
	LoaderConsumer string `env:"RIACHO_METRICS_LOADER_CONSUMER, default=riacho-metrics-loader"`
	// LoaderBatch and LoaderLinger bound one load transaction.
	LoaderBatch  int           `env:"RIACHO_METRICS_LOADER_BATCH, default=5000"`
	LoaderLinger time.Duration `env:"RIACHO_METRICS_LOADER_LINGER, default=200ms"`

	// CacheEntries, CacheBytes and CacheTTL bound the answer cache; 0 entries turns it off.
	CacheEntries int           `env:"RIACHO_METRICS_CACHE_ENTRIES, default=1000"`
	CacheBytes   int64         `env:"RIACHO_METRICS_CACHE_BYTES, default=67108864"`
	CacheTTL     time.Duration `env:"RIACHO_METRICS_CACHE_TTL, default=10m"`
	// RollupInterval is the least time between two rebuilds of the declared rollups.
	RollupInterval time.Duration `env:"RIACHO_METRICS_ROLLUP_INTERVAL, default=1m"`
	// FreshnessPoll is how often freshness is re-read besides the loader's notifications.
	FreshnessPoll time.Duration `env:"RIACHO_METRICS_FRESHNESS_POLL, default=5s"`
	// QueryTimeout bounds one query.
	QueryTimeout time.Duration `env:"RIACHO_METRICS_QUERY_TIMEOUT, default=60s"`

	// OpsAddr serves /metrics, /healthz and /readyz.
	OpsAddr string `env:"RIACHO_METRICS_OPS_ADDR, default=127.0.0.1:9206"`
	// ShutdownTimeout bounds the drain at shutdown.
	ShutdownTimeout time.Duration `env:"RIACHO_METRICS_SHUTDOWN_TIMEOUT, default=30s"`

	Kafka     kafka.Config
	Registry  avro.RegistryConfig
	Control   control.Config
	Telemetry telemetry.Config
	// Lineage sends OpenLineage runs of the warehouse loader, grouped by
	// RIACHO_LINEAGE_INTERVAL (off unless RIACHO_LINEAGE_URL or
	// RIACHO_LINEAGE_TOPIC is set).
	Lineage lineage.Config
}

// Validate reports every problem, each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	w := string(c.Warehouse)
	if !strings.HasPrefix(w, "postgres://") && !strings.HasPrefix(w, "postgresql://") && !strings.HasPrefix(w, "duckdb:") {
		errs = append(errs, errors.New("RIACHO_METRICS_WAREHOUSE must be postgres://… or duckdb://path"))
	}
	if st, err := os.Stat(c.Schema); err != nil || st.IsDir() {
		errs = append(errs, fmt.Errorf("RIACHO_METRICS_SCHEMA %q is not a file", c.Schema))
	}
	if st, err := os.Stat(c.Definitions); err != nil || !st.IsDir() {
		errs = append(errs, fmt.Errorf("RIACHO_METRICS_DEFINITIONS %q is not a directory", c.Definitions))
	}
	if c.Policy == "" && !c.Insecure {
		errs = append(errs, errors.New("RIACHO_METRICS_POLICY is required (or RIACHO_METRICS_INSECURE=true for development)"))
	}
	if c.Policy != "" {
		if _, err := os.Stat(c.Policy); err != nil {
			errs = append(errs, fmt.Errorf("RIACHO_METRICS_POLICY: %w", err))
		}
	}
	if _, _, err := net.SplitHostPort(c.OpsAddr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_METRICS_OPS_ADDR %q: %w", c.OpsAddr, err))
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("RIACHO_METRICS_HTTP_ADDR %q: %w", c.HTTPAddr, err))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("RIACHO_METRICS_TLS_CERT and RIACHO_METRICS_TLS_KEY go together"))
	}
	if (c.TLSClientCA != "" || c.TLSRequireClientCert) && c.TLSCert == "" {
		errs = append(errs, errors.New("RIACHO_METRICS_TLS_CLIENT_CA and RIACHO_METRICS_TLS_REQUIRE_CLIENT_CERT need RIACHO_METRICS_TLS_CERT"))
	}
	if c.TLSRequireClientCert && c.TLSClientCA == "" {
		errs = append(errs, errors.New("RIACHO_METRICS_TLS_REQUIRE_CLIENT_CERT needs RIACHO_METRICS_TLS_CLIENT_CA"))
	}
	if c.LoaderBatch < 1 {
		errs = append(errs, fmt.Errorf("RIACHO_METRICS_LOADER_BATCH %d must be at least 1", c.LoaderBatch))
	}
	if strings.TrimSpace(c.LoaderConsumer) == "" {
		errs = append(errs, errors.New("RIACHO_METRICS_LOADER_CONSUMER must not be empty"))
	}
	if c.CacheEntries < 0 || c.CacheBytes < 0 {
		errs = append(errs, errors.New("RIACHO_METRICS_CACHE_ENTRIES and RIACHO_METRICS_CACHE_BYTES must not be negative"))
	}
	if c.FreshnessPoll < 100*time.Millisecond || c.QueryTimeout < time.Second || c.RollupInterval < time.Second {
		errs = append(errs, errors.New("RIACHO_METRICS_FRESHNESS_POLL must be at least 100ms, RIACHO_METRICS_QUERY_TIMEOUT and RIACHO_METRICS_ROLLUP_INTERVAL at least 1s"))
	}
	if c.Loader {
		for _, v := range []error{c.Kafka.Validate(), c.Registry.Validate(), c.Lineage.Validate()} {
			if v != nil {
				errs = append(errs, v)
			}
		}
	}
	if v := c.Control.Validate(); v != nil {
		errs = append(errs, v)
	}
	return errors.Join(errs...)
}
