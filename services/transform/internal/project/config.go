package project

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/riacho/riacho/services/transform/internal/mask"
)

// Config is a model's resolved configuration: dbt_project.yml folder
// configs, then the schema file's config, then the model's own config().
type Config struct {
	// Materialized is view (default), table, incremental or ephemeral; only
	// ephemeral changes what riacho does (the model is inlined as a CTE).
	Materialized string
	// UniqueKey are the columns that identify a row (unique_key).
	UniqueKey []string
	// Masking maps output columns to their masking policy.
	Masking map[string]mask.Policy
	// Enabled is false for models turned off with enabled=false.
	Enabled bool
	// Tags accumulate over all levels, like dbt's.
	Tags []string
	// MaxRecords caps a micro-batch (riacho.max_records, default 10000).
	MaxRecords int
	// Linger is how long a batch waits to fill (riacho.linger, default 200ms, at most 10s).
	Linger time.Duration
	// DedupeWindow is how long seen unique keys are remembered (riacho.dedupe_window, default 24h, 0 disables).
	DedupeWindow time.Duration
	// VersionColumn orders versions of a unique key (riacho.version_column).
	VersionColumn string
	// Topic overrides the output topic (riacho.topic).
	Topic string
	// Partitions of the output topic when riacho creates it (riacho.partitions, 0 = broker default).
	Partitions int32
}

// Config defaults.
const (
	DefaultMaterialized = "view"
	DefaultMaxRecords   = 10000
	DefaultLinger       = 200 * time.Millisecond
	MaxLinger           = 10 * time.Second
	DefaultDedupeWindow = 24 * time.Hour
)

// DefaultConfig is the configuration of a model nothing configures.
func DefaultConfig() Config {
	return Config{
		Materialized: DefaultMaterialized,
		Enabled:      true,
		MaxRecords:   DefaultMaxRecords,
		Linger:       DefaultLinger,
		DedupeWindow: DefaultDedupeWindow,
	}
}

var (
	configKeys = []string{"materialized", "unique_key", "masking", "enabled", "tags", "riacho"}
	// dbtConfigKeys are dbt (and adapter) configs accepted and ignored.
	dbtConfigKeys = []string{
		"schema", "database", "docs", "persist_docs", "meta", "grants", "contract", "on_schema_change",
		"incremental_strategy", "full_refresh", "quoting", "access", "group", "column_types", "event_time",
		"batch_size", "begin", "lookback", "concurrent_batches", "incremental_predicates", "predicates",
		"merge_update_columns", "merge_exclude_columns", "indexes", "partition_by", "cluster_by", "sort",
		"dist", "labels", "transient", "copy_grants", "file_format", "location_root", "packages",
		"freshness", "query_tag", "snowflake_warehouse", "description",
	}
	// refusedConfigKeys would change what a model means, so riacho refuses them.
	refusedConfigKeys = map[string]string{
		"alias":      "alias is not supported: the output is staging.<model name>; set riacho={'topic': ...} to rename it",
		"pre_hook":   "hooks are not supported: riacho runs only the model's SELECT",
		"post_hook":  "hooks are not supported: riacho runs only the model's SELECT",
		"pre-hook":   "hooks are not supported: riacho runs only the model's SELECT",
		"post-hook":  "hooks are not supported: riacho runs only the model's SELECT",
		"sql_header": "sql_header is not supported: riacho runs only the model's SELECT",
	}
	riachoKeys      = []string{"max_records", "linger", "dedupe_window", "version_column", "topic", "partitions"}
	materializeds   = []string{"view", "table", "incremental", "ephemeral"}
	topicName       = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)
	identifierLike  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	allConfigKeySet = func() map[string]bool {
		m := map[string]bool{}
		for _, k := range append(append([]string{}, configKeys...), dbtConfigKeys...) {
			m[k] = true
		}
		for k := range refusedConfigKeys {
			m[k] = true
		}
		return m
	}()
)

// isConfigKey says whether a key names a config rather than a folder.
func isConfigKey(k string) bool { return allConfigKeySet[k] }

// layer is the part of a Config one place sets.
type layer struct {
	materialized  *string
	uniqueKey     *[]string
	masking       map[string]mask.Policy
	enabled       *bool
	tags          []string
	maxRecords    *int
	linger        *time.Duration
	dedupe        *time.Duration
	versionColumn *string
	topic         *string
	partitions    *int32
}

// cfgError is a bad config value; path leads from the key into the value.
type cfgError struct {
	path []string
	msg  string
	kind error
}

func (e *cfgError) text() string { return "config " + strings.Join(e.path, ".") + ": " + e.msg }

func badCfg(path []string, kind error, format string, args ...any) *cfgError {
	return &cfgError{path: path, msg: fmt.Sprintf(format, args...), kind: kind}
}

// set applies one config key.
func (l *layer) set(key string, v any) *cfgError {
	p := []string{key}
	if msg, ok := refusedConfigKeys[key]; ok {
		return badCfg(p, ErrUnsupported, "%s", msg)
	}
	switch key {
	case "materialized":
		s, ok := v.(string)
		if !ok || !contains(materializeds, s) {
			return badCfg(p, ErrInvalid, "%v is not one of %s", v, strings.Join(materializeds, ", "))
		}
		l.materialized = &s
	case "unique_key":
		keys, err := stringList(v)
		if err != nil {
			return badCfg(p, ErrInvalid, "%v", err)
		}
		l.uniqueKey = &keys
	case "masking":
		return l.setMasking(v)
	case "enabled":
		b, ok := v.(bool)
		if !ok {
			return badCfg(p, ErrInvalid, "want true or false, not %v", v)
		}
		l.enabled = &b
	case "tags":
		tags, err := stringList(v)
		if err != nil {
			return badCfg(p, ErrInvalid, "%v", err)
		}
		l.tags = append(l.tags, tags...)
	case "riacho":
		return l.setRiacho(v)
	default:
		if !contains(dbtConfigKeys, key) {
			return badCfg(p, ErrUnknownKey, "unknown config key%s", suggest(key, append(append([]string{}, configKeys...), dbtConfigKeys...)))
		}
	}
	return nil
}

func (l *layer) setMasking(v any) *cfgError {
	m, ok := v.(map[string]any)
	if !ok {
		return badCfg([]string{"masking"}, ErrInvalid, "want a dict of column: policy, not %v", v)
	}
	if l.masking == nil {
		l.masking = map[string]mask.Policy{}
	}
	for _, col := range sortedKeys(m) {
		p, err := mask.ParsePolicy(m[col])
		if err != nil {
			return badCfg([]string{"masking", col}, ErrInvalid, "%v", err)
		}
		l.masking[col] = p
	}
	return nil
}

func (l *layer) setRiacho(v any) *cfgError {
	m, ok := v.(map[string]any)
	if !ok {
		return badCfg([]string{"riacho"}, ErrInvalid, "want a dict of riacho options, not %v", v)
	}
	for _, k := range sortedKeys(m) {
		p, val := []string{"riacho", k}, m[k]
		switch k {
		case "max_records":
			n, ok := wholeInt(val)
			if !ok || n <= 0 || n > math.MaxInt32 {
				return badCfg(p, ErrInvalid, "want a whole number > 0, not %v", val)
			}
			l.maxRecords = &n
		case "linger":
			d, err := duration(val, false)
			if err != nil || d <= 0 || d > MaxLinger {
				return badCfg(p, ErrInvalid, "want a duration > 0 and <= %s like '200ms', not %v", MaxLinger, val)
			}
			l.linger = &d
		case "dedupe_window":
			d, err := duration(val, true)
			if err != nil || d < 0 {
				return badCfg(p, ErrInvalid, "want a duration like '24h', or 0 to disable, not %v", val)
			}
			l.dedupe = &d
		case "version_column":
			s, ok := val.(string)
			if !ok || s == "" {
				return badCfg(p, ErrInvalid, "want a column name, not %v", val)
			}
			l.versionColumn = &s
		case "topic":
			s, ok := val.(string)
			if !ok || !topicName.MatchString(s) {
				return badCfg(p, ErrInvalid, "want a Kafka topic name (letters, digits, . _ -), not %v", val)
			}
			l.topic = &s
		case "partitions":
			n, ok := wholeInt(val)
			if !ok || n < 0 || n > math.MaxInt32 {
				return badCfg(p, ErrInvalid, "want a whole number >= 0 (0 = broker default), not %v", val)
			}
			n32 := int32(n)
			l.partitions = &n32
		default:
			return badCfg(p, ErrUnknownKey, "unknown riacho option (want %s)%s", strings.Join(riachoKeys, ", "), suggest(k, riachoKeys))
		}
	}
	return nil
}

// resolve merges layers, later ones winning; tags add up, masking and
// riacho options merge per key.
func resolve(layers ...*layer) Config {
	c := DefaultConfig()
	for _, l := range layers {
		if l == nil {
			continue
		}
		setIf(&c.Materialized, l.materialized)
		if l.uniqueKey != nil {
			c.UniqueKey = slices.Clone(*l.uniqueKey)
		}
		setIf(&c.Enabled, l.enabled)
		setIf(&c.MaxRecords, l.maxRecords)
		setIf(&c.Linger, l.linger)
		setIf(&c.DedupeWindow, l.dedupe)
		setIf(&c.VersionColumn, l.versionColumn)
		setIf(&c.Topic, l.topic)
		setIf(&c.Partitions, l.partitions)
		for col, p := range l.masking {
			if c.Masking == nil {
				c.Masking = map[string]mask.Policy{}
			}
			c.Masking[col] = p
		}
		for _, t := range l.tags {
			if !contains(c.Tags, t) {
				c.Tags = append(c.Tags, t)
			}
		}
	}
	return c
}
