package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/telemetry"
	"github.com/riacho/riacho/services/sink/internal/engine"
	"github.com/riacho/riacho/services/sink/internal/lake"
)

// Config is the sink's configuration, read from RIACHO_* environment variables.
type Config struct {
	// Topics is the regular expression of the topics written; the zone is
	// each topic's first segment (raw.* → raw/, curated.* → curated/).
	Topics string `env:"RIACHO_SINK_TOPICS, default=^raw\\..*"`
	// Group is the consumer group shared by the sink's replicas.
	Group string `env:"RIACHO_SINK_GROUP, default=riacho-sink"`
	// InstanceID makes the replica a static group member (its partitions
	// come back at once when it restarts); unique per running replica.
	InstanceID string `env:"RIACHO_SINK_INSTANCE_ID"`
	// LakeURL is where files go: file:///abs/dir, a plain directory
	// (made absolute), s3://bucket?endpoint=..., gs://bucket, azblob://container.
	LakeURL string `env:"RIACHO_SINK_LAKE_URL, default=data/lake"`
	// CatalogURI is the Iceberg SQL catalog: sqlite:///abs/file.db or a
	// postgres:// URL. Empty with a file:// lake: sqlite in <lake>/_catalog/catalog.db.
	CatalogURI telemetry.Secret `env:"RIACHO_SINK_CATALOG_URI"`
	// Layout is the path template of committed files.
	Layout string `env:"RIACHO_SINK_LAYOUT, default={zone}/{source}/year={yyyy}/month={mm}/day={dd}/{entity}_{yyyymmdd}_{seq}.parquet"`
	// RotateRecords, RotateBytes and RotateInterval end a partition's open
	// files and commit them, whichever is reached first.
	RotateRecords  int64         `env:"RIACHO_SINK_ROTATE_RECORDS, default=100000"`
	RotateBytes    ByteSize      `env:"RIACHO_SINK_ROTATE_BYTES, default=128MiB"`
	RotateInterval time.Duration `env:"RIACHO_SINK_ROTATE_INTERVAL, default=1m"`
	// EventTimeFields are the record fields tried, in order, for the event
	// time that picks a record's day (comma-separated; dots go into nested
	// records); the Kafka timestamp is the fallback.
	EventTimeFields []string `env:"RIACHO_SINK_EVENT_TIME_FIELDS, default=event_time,source.ts_ms,ts_ms,timestamp,created_at"`
	// Compression is the Parquet codec: snappy, zstd, gzip or none.
	Compression string `env:"RIACHO_SINK_COMPRESSION, default=snappy"`
	// RowGroupRows is the Parquet row group size (0: the writer's default, 128k).
	RowGroupRows int64 `env:"RIACHO_SINK_ROW_GROUP_ROWS, default=0"`
	// TopicRefresh is how often new topics matching Topics are looked for.
	TopicRefresh time.Duration `env:"RIACHO_SINK_TOPIC_REFRESH, default=10s"`
	// DLQTopic receives records that cannot be decoded or converted.
	DLQTopic string `env:"RIACHO_SINK_DLQ_TOPIC, default=dlq.sink"`
	// OpsAddr serves /metrics, /healthz and /readyz.
	OpsAddr string `env:"RIACHO_SINK_OPS_ADDR, default=127.0.0.1:9203"`
	// ShutdownTimeout bounds the commit of open files at shutdown.
	ShutdownTimeout time.Duration `env:"RIACHO_SINK_SHUTDOWN_TIMEOUT, default=30s"`

	Kafka     kafka.Config
	Registry  avro.RegistryConfig
	Control   control.Config
	Telemetry telemetry.Config
	// Lineage sends an OpenLineage run per table commit (off unless
	// RIACHO_LINEAGE_URL or RIACHO_LINEAGE_TOPIC is set).
	Lineage lineage.Config
}

// ByteSize is a size in bytes read as a number with an optional unit
// (B, KB, MB, GB, KiB, MiB, GiB).
type ByteSize int64

// EnvDecode implements envconfig.Decoder.
func (b *ByteSize) EnvDecode(s string) error {
	n, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = ByteSize(n)
	return nil
}

var byteUnits = map[string]int64{
	"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
}

var byteSizeRe = regexp.MustCompile(`^\s*([0-9]+)\s*([a-zA-Z]*)\s*$`)

// ParseByteSize reads "134217728", "128MiB" or "100MB".
func ParseByteSize(s string) (int64, error) {
	m := byteSizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("size %q is not a number with an optional unit (B, KB, MB, GB, KiB, MiB, GiB)", s)
	}
	mult, ok := byteUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q", s, m[2])
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// ResolveLake returns the lake URL with a plain or relative directory made
// an absolute file:// URL, and the catalog URI (the sqlite default inside a
// file:// lake when none is set).
func (c *Config) ResolveLake() (lakeURL, catalogURI string, err error) {
	lakeURL = strings.TrimSpace(c.LakeURL)
	catalogURI = strings.TrimSpace(string(c.CatalogURI))
	u, perr := url.Parse(lakeURL)
	switch {
	case lakeURL == "":
		return "", "", errors.New("RIACHO_SINK_LAKE_URL must not be empty")
	case perr != nil || u.Scheme == "" || (len(u.Scheme) == 1 && filepath.VolumeName(lakeURL) != ""):
		abs, err := filepath.Abs(lakeURL)
		if err != nil {
			return "", "", fmt.Errorf("RIACHO_SINK_LAKE_URL %q: %w", lakeURL, err)
		}
		lakeURL = "file://" + filepath.ToSlash(abs)
	case u.Scheme == "file":
		p := u.Path
		if u.Host != "" && u.Host != "localhost" { // file://relative/dir
			p = u.Host + u.Path
		}
		abs, err := filepath.Abs(filepath.FromSlash(p))
		if err != nil {
			return "", "", fmt.Errorf("RIACHO_SINK_LAKE_URL %q: %w", lakeURL, err)
		}
		lakeURL = "file://" + filepath.ToSlash(abs)
	}
	if catalogURI == "" {
		if !strings.HasPrefix(lakeURL, "file://") {
			return "", "", fmt.Errorf("RIACHO_SINK_CATALOG_URI must be set for the lake %s (sqlite:///abs/file.db or postgres://...); only file:// lakes have a default", telemetry.RedactURL(lakeURL))
		}
		catalogURI = "sqlite://" + strings.TrimPrefix(lakeURL, "file://") + "/_catalog/catalog.db"
	}
	return lakeURL, catalogURI, nil
}

// EngineConfig is the engine's share of the configuration.
func (c *Config) EngineConfig() engine.Config {
	return engine.Config{
		Topics:          c.Topics,
		Group:           c.Group,
		DLQTopic:        c.DLQTopic,
		EventTimeFields: c.EventTimeFields,
		RotateRecords:   c.RotateRecords,
		RotateBytes:     int64(c.RotateBytes),
		RotateInterval:  c.RotateInterval,
		Compression:     c.Compression,
		RowGroupRows:    c.RowGroupRows,
		TopicRefresh:    c.TopicRefresh,
		InstanceID:      c.InstanceID,
	}
}

// Validate reports every configuration problem at once, each naming its variable.
func (c *Config) Validate() error {
	var errs []error
	if _, err := regexp.Compile(c.Topics); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_TOPICS %q: %w", c.Topics, err))
	} else if regexp.MustCompile(c.Topics).MatchString(c.DLQTopic) {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_TOPICS %q matches RIACHO_SINK_DLQ_TOPIC %q", c.Topics, c.DLQTopic))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("RIACHO_SINK_GROUP must not be empty"))
	}
	if c.DLQTopic == "" {
		errs = append(errs, errors.New("RIACHO_SINK_DLQ_TOPIC must not be empty"))
	}
	if _, _, err := c.ResolveLake(); err != nil {
		errs = append(errs, err)
	}
	if _, err := lake.NewLayout(c.Layout); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_LAYOUT: %w", err))
	}
	if c.RotateRecords <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_ROTATE_RECORDS must be positive, got %d", c.RotateRecords))
	}
	if c.RotateBytes <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_ROTATE_BYTES must be positive, got %d", c.RotateBytes))
	}
	if c.RotateInterval <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_ROTATE_INTERVAL must be positive, got %s", c.RotateInterval))
	}
	if c.TopicRefresh <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_TOPIC_REFRESH must be positive, got %s", c.TopicRefresh))
	}
	if len(c.EventTimeFields) == 0 {
		errs = append(errs, errors.New("RIACHO_SINK_EVENT_TIME_FIELDS must name at least one field"))
	}
	for _, f := range c.EventTimeFields {
		if f = strings.TrimSpace(f); f == "" || strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, "..") {
			errs = append(errs, fmt.Errorf("RIACHO_SINK_EVENT_TIME_FIELDS: %q is not a field path", f))
		}
	}
	switch c.Compression {
	case "snappy", "zstd", "gzip", "none":
	default:
		errs = append(errs, fmt.Errorf("RIACHO_SINK_COMPRESSION %q is not snappy, zstd, gzip or none", c.Compression))
	}
	if c.RowGroupRows < 0 {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_ROW_GROUP_ROWS must not be negative, got %d", c.RowGroupRows))
	}
	if _, _, err := net.SplitHostPort(c.OpsAddr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_OPS_ADDR %q: %w", c.OpsAddr, err))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_SINK_SHUTDOWN_TIMEOUT must be positive, got %s", c.ShutdownTimeout))
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
	if err := c.Telemetry.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Lineage.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
