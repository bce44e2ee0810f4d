package pgcdc

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Snapshot modes.
const (
	// SnapshotInitial reads every captured table once, consistent with the
	// replication slot, before streaming (and tables that appear later).
	SnapshotInitial = "initial"
	// SnapshotNever streams changes from the slot's creation on only.
	SnapshotNever = "never"
)

// Slot loss policies.
const (
	// SlotLossFail stops the capture with ErrSlotLost.
	SlotLossFail = "fail"
	// SlotLossResnapshot creates the slot again and snapshots every table
	// again, logged as a warning.
	SlotLossResnapshot = "resnapshot"
)

// Config configures the capture of one PostgreSQL database.
type Config struct {
	// Source is riacho's name of the source: topics are raw.<source>.<schema>.<table>.
	Source string `yaml:"source"`
	// URL is the connection string of the captured database (the password may
	// be set by the application from the environment).
	URL string `yaml:"url"`
	// Publication is the publication the capture creates or reuses
	// (default riacho_<source>).
	Publication string `yaml:"publication"`
	// Slot is the permanent logical replication slot (default riacho_<source>).
	Slot string `yaml:"slot"`
	// Include lists the captured tables as schema.table patterns with *
	// globs (default public.*).
	Include []string `yaml:"include"`
	// Exclude lists schema.table patterns left out even when included.
	Exclude []string `yaml:"exclude"`
	// Snapshot is "initial" (default) or "never".
	Snapshot string `yaml:"snapshot"`
	// ChunkSize is the number of rows a snapshot reads per chunk (default 10000).
	ChunkSize int `yaml:"chunk_size"`
	// Heartbeat is how often a heartbeat message is written to the captured
	// database so a quiet database still moves its slot (default 10s;
	// negative turns it off).
	Heartbeat time.Duration `yaml:"heartbeat"`
	// StatusInterval is how often the capture reports its confirmed position
	// to the server (default 1s).
	StatusInterval time.Duration `yaml:"status_interval"`
	// OnSlotLoss is what happens when the recorded slot is gone: "fail"
	// (default) or "resnapshot".
	OnSlotLoss string `yaml:"on_slot_loss"`
}

// Defaults fills every unset field with its default.
func (c *Config) Defaults() {
	if c.Publication == "" && c.Source != "" {
		c.Publication = "riacho_" + identPart(c.Source)
	}
	if c.Slot == "" && c.Source != "" {
		c.Slot = "riacho_" + identPart(c.Source)
	}
	if len(c.Include) == 0 {
		c.Include = []string{"public.*"}
	}
	if c.Snapshot == "" {
		c.Snapshot = SnapshotInitial
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = 10000
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.StatusInterval == 0 {
		c.StatusInterval = time.Second
	}
	if c.OnSlotLoss == "" {
		c.OnSlotLoss = SlotLossFail
	}
}

// identPart lower-cases s and replaces what a slot name cannot hold by '_'.
func identPart(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

var (
	slotName   = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	sourceName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Validate reports every problem, each naming its field.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("postgresql %s: %s", field, fmt.Sprintf(format, a...)))
	}
	if c.Source == "" {
		add("source", "required")
	} else if !sourceName.MatchString(c.Source) {
		add("source", "%q: use letters, digits, '_' and '-'", c.Source)
	}
	if c.URL == "" {
		add("url", "required")
	} else if _, err := pgconn.ParseConfig(c.URL); err != nil {
		add("url", "not a PostgreSQL connection string: %v", redact(err))
	}
	if !slotName.MatchString(c.Slot) {
		add("slot", "%q: 1 to 63 lower-case letters, digits or '_'", c.Slot)
	}
	if c.Publication == "" || len(c.Publication) > 63 || strings.ContainsRune(c.Publication, 0) {
		add("publication", "%q: 1 to 63 characters", c.Publication)
	}
	if len(c.Include) == 0 {
		add("include", "at least one schema.table pattern")
	}
	for i, p := range c.Include {
		if err := checkPattern(p); err != nil {
			add(fmt.Sprintf("include[%d]", i), "%v", err)
		}
	}
	for i, p := range c.Exclude {
		if err := checkPattern(p); err != nil {
			add(fmt.Sprintf("exclude[%d]", i), "%v", err)
		}
	}
	switch c.Snapshot {
	case SnapshotInitial, SnapshotNever:
	default:
		add("snapshot", "%q: want %q or %q", c.Snapshot, SnapshotInitial, SnapshotNever)
	}
	if c.ChunkSize <= 0 {
		add("chunk_size", "%d: must be positive", c.ChunkSize)
	}
	if c.Heartbeat > 0 && c.Heartbeat < 10*time.Millisecond {
		add("heartbeat", "%s: at least 10ms (negative turns it off)", c.Heartbeat)
	}
	if c.StatusInterval <= 0 || c.StatusInterval > time.Minute {
		add("status_interval", "%s: between 1ns and 1m (below the server's wal_sender_timeout)", c.StatusInterval)
	}
	switch c.OnSlotLoss {
	case SlotLossFail, SlotLossResnapshot:
	default:
		add("on_slot_loss", "%q: want %q or %q", c.OnSlotLoss, SlotLossFail, SlotLossResnapshot)
	}
	return errors.Join(errs...)
}

func checkPattern(p string) error {
	if !strings.Contains(p, ".") {
		return fmt.Errorf("%q: want schema.table (globs allowed, e.g. public.*)", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%q: %w", p, err)
	}
	return nil
}

// redact keeps a connection string's password out of an error message.
func redact(err error) string {
	s := err.Error()
	if i := strings.Index(s, "password="); i >= 0 {
		return s[:i] + "password=xxxxx"
	}
	return s
}

// matcher decides which tables are captured.
type matcher struct{ include, exclude []string }

func newMatcher(c Config) matcher { return matcher{include: c.Include, exclude: c.Exclude} }

// match reports whether schema.table is captured.
func (m matcher) match(schema, table string) bool {
	name := schema + "." + table
	in := false
	for _, p := range m.include {
		if ok, _ := path.Match(p, name); ok {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, p := range m.exclude {
		if ok, _ := path.Match(p, name); ok {
			return false
		}
	}
	return true
}
