package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Compatibility levels accepted by the registry, as spelled by Confluent.
const (
	// Backward means a new schema can read data written with the latest version.
	Backward = "BACKWARD"
	// BackwardTransitive means a new schema can read data written with every live version.
	BackwardTransitive = "BACKWARD_TRANSITIVE"
	// Forward means the latest version can read data written with a new schema.
	Forward = "FORWARD"
	// ForwardTransitive means every live version can read data written with a new schema.
	ForwardTransitive = "FORWARD_TRANSITIVE"
	// Full means Backward and Forward together.
	Full = "FULL"
	// FullTransitive means BackwardTransitive and ForwardTransitive together.
	FullTransitive = "FULL_TRANSITIVE"
	// None disables compatibility checking.
	None = "NONE"
)

var levels = []string{Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None}

// Levels returns every compatibility level the registry accepts.
func Levels() []string { return slices.Clone(levels) }

// ValidLevel reports whether level is one of Levels (exact, upper-case spelling).
func ValidLevel(level string) bool { return slices.Contains(levels, level) }

// Config configures a Registry.
type Config struct {
	// Addr is the HTTP listen address used by Run.
	Addr string `env:"RIACHO_REGISTRY_ADDR, default=127.0.0.1:8081"`
	// Topic is the compacted Kafka topic holding the registry state.
	Topic string `env:"RIACHO_REGISTRY_TOPIC, default=_schemas"`
	// ReplicationFactor is used when the topic must be created; -1 uses the broker default.
	ReplicationFactor int `env:"RIACHO_REGISTRY_REPLICATION_FACTOR, default=-1"`
	// DefaultCompatibility is the global level used while no global level was stored.
	DefaultCompatibility string `env:"RIACHO_REGISTRY_COMPATIBILITY, default=BACKWARD"`
	// StartTimeout bounds Start: topic creation plus loading the topic up to its high watermark.
	StartTimeout time.Duration `env:"RIACHO_REGISTRY_START_TIMEOUT, default=60s"`
	// WriteTimeout bounds one write to the topic (an HTTP request fails with 50001 after it).
	WriteTimeout time.Duration `env:"RIACHO_REGISTRY_WRITE_TIMEOUT, default=10s"`
	// ShutdownTimeout bounds how long Run waits for in-flight HTTP requests to finish.
	ShutdownTimeout time.Duration `env:"RIACHO_REGISTRY_SHUTDOWN_TIMEOUT, default=5s"`
	// MaxBodyBytes is the largest request body accepted.
	MaxBodyBytes int64 `env:"RIACHO_REGISTRY_MAX_BODY_BYTES, default=8388608"`
}

// DefaultConfig returns the configuration used when no environment variable is set.
func DefaultConfig() Config {
	return Config{
		Addr:                 "127.0.0.1:8081",
		Topic:                "_schemas",
		ReplicationFactor:    -1,
		DefaultCompatibility: Backward,
		StartTimeout:         60 * time.Second,
		WriteTimeout:         10 * time.Second,
		ShutdownTimeout:      5 * time.Second,
		MaxBodyBytes:         8 << 20,
	}
}

// LoadConfig reads a Config from l, or from the process environment when l is nil.
func LoadConfig(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	var cfg Config
	if l == nil {
		l = envconfig.OsLookuper()
	}
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: l}); err != nil {
		return Config{}, fmt.Errorf("read registry config: %w", err)
	}
	return cfg, nil
}

// Validate reports every problem in c, each naming its environment variable.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_REGISTRY_ADDR: %q is not host:port: %w", c.Addr, err))
	}
	if err := validTopic(c.Topic); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_REGISTRY_TOPIC: %w", err))
	}
	if c.ReplicationFactor == 0 || c.ReplicationFactor < -1 || c.ReplicationFactor > 32767 {
		errs = append(errs, fmt.Errorf("RIACHO_REGISTRY_REPLICATION_FACTOR: %d is not -1 or 1..32767", c.ReplicationFactor))
	}
	if !ValidLevel(c.DefaultCompatibility) {
		errs = append(errs, fmt.Errorf("RIACHO_REGISTRY_COMPATIBILITY: %q is not one of %s",
			c.DefaultCompatibility, strings.Join(levels, ", ")))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"RIACHO_REGISTRY_START_TIMEOUT", c.StartTimeout},
		{"RIACHO_REGISTRY_WRITE_TIMEOUT", c.WriteTimeout},
		{"RIACHO_REGISTRY_SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: %v must be positive", d.name, d.v))
		}
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("RIACHO_REGISTRY_MAX_BODY_BYTES: %d is below 1024", c.MaxBodyBytes))
	}
	return errors.Join(errs...)
}

// validTopic applies Kafka's topic name rules.
func validTopic(t string) error {
	if t == "" {
		return errors.New("empty topic name")
	}
	if t == "." || t == ".." {
		return fmt.Errorf("topic name %q is not allowed", t)
	}
	if len(t) > 249 {
		return fmt.Errorf("topic name is %d characters, above 249", len(t))
	}
	for _, r := range t {
		ok := r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("topic name %q has character %q outside [a-zA-Z0-9._-]", t, r)
		}
	}
	return nil
}
