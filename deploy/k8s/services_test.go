package k8s

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/riacho/riacho/libs/envconf"
	cdc "github.com/riacho/riacho/services/cdc/app"
	intake "github.com/riacho/riacho/services/intake/app"
	metrics "github.com/riacho/riacho/services/metrics/app"
	quality "github.com/riacho/riacho/services/quality/app"
	sink "github.com/riacho/riacho/services/sink/app"
	transform "github.com/riacho/riacho/services/transform/app"
)

// service is what the checks know of one riacho service.
type service struct {
	name string
	// vars lists every variable its Config reads.
	vars []envconf.Variable
	// load reads the configuration from environ (content paths pointing at
	// a materialised copy of the mounted files) and derives what the
	// manifests must match.
	load func(ctx context.Context, environ []string) (loaded, error)
	// consumer means the service reads Kafka in consumer groups and is
	// scaled by KEDA on their lag.
	consumer bool
}

// loaded is a service's configuration as the manifests set it.
type loaded struct {
	listen   map[string]string // variable → address the service listens on
	control  string            // the Control (and gRPC health) address
	shutdown time.Duration     // longest drain at SIGTERM: the service's, then Control's
	valid    error             // Config.Validate
	brokers  []string          // RIACHO_KAFKA_BROKERS
	groups   map[string]group  // consumer group → what it reads
	topics   []string          // every topic the configuration or content names
	extraEnv []string          // variables read outside Config (by content files)
	writable []string          // local paths the service writes
}

// group is one consumer group: its input topics, or a pattern over topics.
type group struct {
	topics  []string
	pattern *regexp.Regexp
}

// runtimeEnv are read by the Go runtime, not by a Config.
var runtimeEnv = []string{"GOMEMLIMIT", "GOGC"}

// services lists the six services with their Config's variables.
func services() []service {
	return []service{
		{name: "intake", vars: envconf.Variables(intake.Config{}), load: loadIntake},
		{name: "cdc", vars: envconf.Variables(cdc.Config{}), load: loadCDC},
		{name: "sink", vars: envconf.Variables(sink.Config{}), load: loadSink, consumer: true},
		{name: "transform", vars: envconf.Variables(transform.Config{}), load: loadTransform, consumer: true},
		{name: "quality", vars: envconf.Variables(quality.Config{}), load: loadQuality, consumer: true},
		{name: "metrics", vars: envconf.Variables(metrics.Config{}), load: loadMetrics, consumer: true},
	}
}

func loadIntake(ctx context.Context, environ []string) (loaded, error) {
	cfg, err := intake.LoadConfig(ctx, environ)
	if err != nil {
		return loaded{}, err
	}
	l := loaded{
		listen:  map[string]string{"RIACHO_INTAKE_ADDR": cfg.Addr, "RIACHO_CONTROL_ADDR": cfg.Control.Addr},
		control: cfg.Control.Addr, shutdown: cfg.ShutdownTimeout + cfg.Control.ShutdownTimeout,
		valid: cfg.Validate(), brokers: cfg.Kafka.Brokers,
	}
	// The webhooks' fixed topics (README, "The intake service").
	if cfg.WhatsAppAppSecret != "" {
		l.topics = append(l.topics, "raw.whatsapp.messages", "raw.whatsapp.statuses", "raw.whatsapp.events")
	}
	if cfg.MetaAppSecret != "" {
		l.topics = append(l.topics, "raw.meta.leads", "raw.meta.events")
	}
	return l, nil
}

func loadCDC(ctx context.Context, environ []string) (loaded, error) {
	cfg, err := cdc.LoadConfig(ctx, environ)
	if err != nil {
		return loaded{}, err
	}
	l := loaded{
		listen:  map[string]string{"RIACHO_CDC_OPS_ADDR": cfg.OpsAddr, "RIACHO_CONTROL_ADDR": cfg.Control.Addr},
		control: cfg.Control.Addr, shutdown: cfg.ShutdownTimeout + cfg.Control.ShutdownTimeout,
		valid: cfg.Validate(), brokers: cfg.Kafka.Brokers,
		topics: []string{cfg.DLQTopic, cfg.StateTopic},
	}
	if cfg.SourcesFile == "" {
		return l, fmt.Errorf("RIACHO_CDC_CONFIG is not set")
	}
	env := envconf.Map(environ)
	getenv := func(k string) string { // records what the sources file reads
		l.extraEnv = append(l.extraEnv, k)
		return env[k]
	}
	sources, err := cdc.LoadSources(cfg.SourcesFile, getenv)
	if err != nil {
		return l, err
	}
	for _, s := range sources {
		if s.Postgres == nil {
			continue // cursor sources name their topics at run time
		}
		for _, inc := range s.Postgres.Include {
			if !strings.Contains(inc, "*") {
				l.topics = append(l.topics, "raw."+s.Name+"."+inc)
			}
		}
	}
	return l, nil
}

func loadSink(ctx context.Context, environ []string) (loaded, error) {
	cfg, err := sink.LoadConfig(ctx, environ)
	if err != nil {
		return loaded{}, err
	}
	l := loaded{
		listen:  map[string]string{"RIACHO_SINK_OPS_ADDR": cfg.OpsAddr, "RIACHO_CONTROL_ADDR": cfg.Control.Addr},
		control: cfg.Control.Addr, shutdown: cfg.ShutdownTimeout + cfg.Control.ShutdownTimeout,
		valid: cfg.Validate(), brokers: cfg.Kafka.Brokers, topics: []string{cfg.DLQTopic},
		// gocloud.dev's s3blob reads the AWS SDK's variables.
		extraEnv: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"},
	}
	re, err := regexp.Compile(cfg.Topics)
	if err != nil {
		return l, fmt.Errorf("RIACHO_SINK_TOPICS: %w", err)
	}
	l.groups = map[string]group{cfg.Group: {pattern: re}}
	if lake, _, err := cfg.ResolveLake(); err == nil && strings.HasPrefix(lake, "file://") {
		l.writable = append(l.writable, strings.TrimPrefix(lake, "file://"))
	}
	return l, nil
}

func loadTransform(ctx context.Context, environ []string) (loaded, error) {
	cfg, err := transform.LoadConfig(ctx, environ)
	if err != nil {
		return loaded{}, err
	}
	l := loaded{
		listen:  map[string]string{"RIACHO_TRANSFORM_OPS_ADDR": cfg.OpsAddr, "RIACHO_CONTROL_ADDR": cfg.Control.Addr},
		control: cfg.Control.Addr, shutdown: cfg.ShutdownTimeout + cfg.Control.ShutdownTimeout,
		valid: cfg.Validate(), brokers: cfg.Kafka.Brokers, topics: []string{cfg.DLQTopic},
		groups: map[string]group{},
	}
	models, err := transformModels(cfg.Project)
	if err != nil {
		return l, err
	}
	for name, inputs := range models {
		l.groups[cfg.GroupPrefix+"."+name] = group{topics: inputs}
		l.topics = append(l.topics, inputs...)
		l.topics = append(l.topics, "staging."+name)
	}
	return l, nil
}

var (
	sourceCall = regexp.MustCompile(`source\(\s*'([^']+)'\s*,\s*'([^']+)'\s*\)`)
	refCall    = regexp.MustCompile(`ref\(\s*'([^']+)'\s*\)`)
)

// transformModels maps every model of a dbt-style project (models/**/*.sql)
// to the topics it reads: source('s', 't') is raw.s.t unless the source's
// meta.riacho.topic names another, ref('m') is staging.m.
func transformModels(project string) (map[string][]string, error) {
	sources, err := sourceTopics(filepath.Join(project, "models"))
	if err != nil {
		return nil, err
	}
	models := map[string][]string{}
	err = filepath.WalkDir(filepath.Join(project, "models"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".sql" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var inputs []string
		for _, m := range sourceCall.FindAllStringSubmatch(string(b), -1) {
			topic, ok := sources[m[1]+"."+m[2]]
			if !ok {
				topic = "raw." + m[1] + "." + m[2]
			}
			inputs = append(inputs, topic)
		}
		for _, m := range refCall.FindAllStringSubmatch(string(b), -1) {
			inputs = append(inputs, "staging."+m[1])
		}
		slices.Sort(inputs)
		models[strings.TrimSuffix(filepath.Base(path), ".sql")] = slices.Compact(inputs)
		return nil
	})
	return models, err
}

// sourceTopics reads the sources declared in the YAML files under dir:
// "source.table" → meta.riacho.topic, for the tables that set one.
func sourceTopics(dir string) (map[string]string, error) {
	type table struct {
		Name string `json:"name"`
		Meta struct {
			Riacho struct {
				Topic string `json:"topic"`
			} `json:"riacho"`
		} `json:"meta"`
	}
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yml" && filepath.Ext(path) != ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var f struct {
			Sources []struct {
				Name   string  `json:"name"`
				Tables []table `json:"tables"`
			} `json:"sources"`
		}
		if err := yaml.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, s := range f.Sources {
			for _, t := range s.Tables {
				if t.Meta.Riacho.Topic != "" {
					out[s.Name+"."+t.Name] = t.Meta.Riacho.Topic
				}
			}
		}
		return nil
	})
	return out, err
}

func loadQuality(ctx context.Context, environ []string) (loaded, error) {
	cfg, err := quality.LoadConfig(ctx, environ)
	if err != nil {
		return loaded{}, err
	}
	l := loaded{
		listen:  map[string]string{"RIACHO_QUALITY_OPS_ADDR": cfg.OpsAddr, "RIACHO_CONTROL_ADDR": cfg.Control.Addr},
		control: cfg.Control.Addr, shutdown: cfg.ShutdownTimeout + cfg.Control.ShutdownTimeout,
		valid: cfg.Validate(), brokers: cfg.Kafka.Brokers, topics: []string{cfg.ResultsTopic},
		groups: map[string]group{},
	}
	models, err := suiteModels(cfg.Suites)
	if err != nil {
		return l, err
	}
	for _, m := range models {
		l.groups[cfg.GroupPrefix+"."+m] = group{topics: []string{"staging." + m}}
		l.topics = append(l.topics, "staging."+m, "curated."+m, "quarantine."+m)
	}
	return l, nil
}

// suiteModels lists the models the suites in dir check, as the quality
// service names them: meta.riacho.model, else the suite's name, and the
// file name for a file holding a single expectation.
func suiteModels(dir string) ([]string, error) {
	var models []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".json", ".yml", ".yaml":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var s struct {
			Name            string `json:"name"`
			SuiteName       string `json:"expectation_suite_name"`
			ExpectationType string `json:"expectation_type"`
			Meta            struct {
				Riacho struct {
					Model string `json:"model"`
				} `json:"riacho"`
			} `json:"meta"`
		}
		if err := yaml.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var model string
		switch {
		case s.Meta.Riacho.Model != "":
			model = s.Meta.Riacho.Model
		case s.ExpectationType != "":
			model = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		case s.SuiteName != "":
			model = s.SuiteName
		default:
			model = s.Name
		}
		if model != "" && !slices.Contains(models, model) {
			models = append(models, model)
		}
		return nil
	})
	slices.Sort(models)
	return models, err
}

func loadMetrics(ctx context.Context, environ []string) (loaded, error) {
	cfg, err := metrics.LoadConfig(ctx, environ)
	if err != nil {
		return loaded{}, err
	}
	l := loaded{
		listen: map[string]string{
			"RIACHO_METRICS_OPS_ADDR": cfg.OpsAddr, "RIACHO_METRICS_HTTP_ADDR": cfg.HTTPAddr,
			"RIACHO_CONTROL_ADDR": cfg.Control.Addr,
		},
		control: cfg.Control.Addr, shutdown: cfg.ShutdownTimeout + cfg.Control.ShutdownTimeout,
		valid: cfg.Validate(), brokers: cfg.Kafka.Brokers, groups: map[string]group{},
	}
	if cfg.HTTPAddr == "" {
		delete(l.listen, "RIACHO_METRICS_HTTP_ADDR")
	}
	if w := string(cfg.Warehouse); strings.HasPrefix(w, "duckdb:") {
		l.writable = append(l.writable, strings.TrimPrefix(strings.TrimPrefix(w, "duckdb:"), "//"))
	}
	if cfg.AuditLog != "stderr" && cfg.AuditLog != "stdout" {
		l.writable = append(l.writable, cfg.AuditLog)
	}
	var schema struct {
		Tables []struct {
			Topic string `json:"topic"`
		} `json:"tables"`
	}
	if err := readYAML(cfg.Schema, &schema); err != nil {
		return l, err
	}
	var inputs []string
	for _, t := range schema.Tables {
		inputs = append(inputs, t.Topic)
	}
	l.topics = inputs
	if cfg.Loader {
		l.groups[cfg.LoaderConsumer] = group{topics: inputs}
	}
	var policy struct {
		Clients []struct {
			TokenEnv string `json:"token_env"`
		} `json:"clients"`
	}
	if cfg.Policy != "" {
		if err := readYAML(cfg.Policy, &policy); err != nil {
			return l, err
		}
	}
	for _, c := range policy.Clients {
		if c.TokenEnv != "" {
			l.extraEnv = append(l.extraEnv, c.TokenEnv)
		}
	}
	return l, nil
}

// readYAML decodes the YAML (or JSON) file path into v, leniently: the
// services parse their content strictly themselves.
func readYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := json.Unmarshal(j, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
