package engine

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Defaults of Config.
const (
	DefaultTopics         = `^raw\..*`
	DefaultGroup          = "riacho-sink"
	DefaultDLQTopic       = "dlq.sink"
	DefaultRotateRecords  = 100_000
	DefaultRotateBytes    = 128 << 20
	DefaultRotateInterval = time.Minute
	DefaultMaxPollRecords = 10_000
	DefaultQueueBatches   = 8
)

// Config tunes the engine. The zero value of every field but Topics and
// Group means its default; Topics and Group get theirs from Defaults.
type Config struct {
	// Topics is a regular expression matched against every topic; matching
	// topics (also those created later) are consumed.
	Topics string
	// Group is the consumer group id.
	Group string
	// DLQTopic receives the records that cannot be decoded or converted.
	DLQTopic string
	// EventTimeFields are the record fields tried in order for the event
	// time that chooses a record's day; dots go into nested records.
	EventTimeFields []string
	// RotateRecords, RotateBytes and RotateInterval close a partition's
	// open files and commit them when the range has that many records, that
	// many bytes (the larger of the Avro input and the Parquet output), or
	// is that old, whichever comes first.
	RotateRecords  int64
	RotateBytes    int64
	RotateInterval time.Duration
	// Compression is the Parquet codec: snappy (default), zstd, gzip or none.
	Compression string
	// RowGroupRows is the Parquet row group size in rows (avroparquet's default when 0).
	RowGroupRows int64
	// MaxPollRecords caps one poll's batch.
	MaxPollRecords int
	// QueueBatches is how many polled batches may wait for one partition's writer.
	QueueBatches int
	// CommitRetries is how often a failed table commit is tried again before
	// the partition's range is abandoned and re-read (3 when 0).
	CommitRetries int
	// InstanceID, when set, makes this member static (KIP-345): a replica
	// restarted with the same id takes its partitions back at once instead
	// of waiting for the session timeout and a rebalance. Each running
	// replica needs its own id.
	InstanceID string
	// TopicRefresh is how often the topic list is read again, so that new
	// topics matching Topics are picked up (10s when 0).
	TopicRefresh time.Duration
	// SessionTimeout and RebalanceTimeout are the group's (franz-go's
	// defaults when 0).
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
}

// Defaults returns the configuration with every default filled in.
func Defaults() Config {
	var c Config
	c.fill()
	return c
}

func (c *Config) fill() {
	if c.Topics == "" {
		c.Topics = DefaultTopics
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.DLQTopic == "" {
		c.DLQTopic = DefaultDLQTopic
	}
	if len(c.EventTimeFields) == 0 {
		c.EventTimeFields = append([]string(nil), DefaultEventTimeFields...)
	}
	if c.RotateRecords == 0 {
		c.RotateRecords = DefaultRotateRecords
	}
	if c.RotateBytes == 0 {
		c.RotateBytes = DefaultRotateBytes
	}
	if c.RotateInterval == 0 {
		c.RotateInterval = DefaultRotateInterval
	}
	if c.Compression == "" {
		c.Compression = "snappy"
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = DefaultMaxPollRecords
	}
	if c.QueueBatches == 0 {
		c.QueueBatches = DefaultQueueBatches
	}
	if c.CommitRetries == 0 {
		c.CommitRetries = 3
	}
	if c.TopicRefresh == 0 {
		c.TopicRefresh = 10 * time.Second
	}
}

// Validate reports every problem of c (after defaults are filled in).
func (c Config) Validate() error {
	c.fill()
	var errs []error
	if _, err := regexp.Compile(c.Topics); err != nil {
		errs = append(errs, fmt.Errorf("topics pattern %q: %w", c.Topics, err))
	} else if regexp.MustCompile(c.Topics).MatchString(c.DLQTopic) {
		errs = append(errs, fmt.Errorf("topics pattern %q matches the dead-letter topic %q", c.Topics, c.DLQTopic))
	}
	for _, f := range c.EventTimeFields {
		if f == "" || f[0] == '.' || f[len(f)-1] == '.' {
			errs = append(errs, fmt.Errorf("event-time field %q is not a field path", f))
		}
	}
	if c.RotateRecords < 0 {
		errs = append(errs, fmt.Errorf("rotate records must be positive, got %d", c.RotateRecords))
	}
	if c.RotateBytes < 0 {
		errs = append(errs, fmt.Errorf("rotate bytes must be positive, got %d", c.RotateBytes))
	}
	if c.RotateInterval < 0 {
		errs = append(errs, fmt.Errorf("rotate interval must be positive, got %s", c.RotateInterval))
	}
	switch c.Compression {
	case "snappy", "zstd", "gzip", "none":
	default:
		errs = append(errs, fmt.Errorf("compression %q is not snappy, zstd, gzip or none", c.Compression))
	}
	if c.RowGroupRows < 0 {
		errs = append(errs, fmt.Errorf("row group rows must not be negative, got %d", c.RowGroupRows))
	}
	if c.TopicRefresh < 0 {
		errs = append(errs, fmt.Errorf("topic refresh must not be negative, got %s", c.TopicRefresh))
	}
	if c.MaxPollRecords < 0 || c.QueueBatches < 0 || c.CommitRetries < 0 {
		errs = append(errs, errors.New("max poll records, queue batches and commit retries must not be negative"))
	}
	return errors.Join(errs...)
}
