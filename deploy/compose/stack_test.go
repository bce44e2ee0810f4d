package compose

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/riacho/riacho/libs/envconf"
	cdc "github.com/riacho/riacho/services/cdc/app"
	intake "github.com/riacho/riacho/services/intake/app"
	metrics "github.com/riacho/riacho/services/metrics/app"
	quality "github.com/riacho/riacho/services/quality/app"
	sink "github.com/riacho/riacho/services/sink/app"
	transform "github.com/riacho/riacho/services/transform/app"
)

// repoRoot is the repository root seen from this package.
const repoRoot = "../.."

// configs maps each riacho service to the configuration struct it reads.
var configs = map[string]any{
	"intake": intake.Config{}, "cdc": cdc.Config{}, "sink": sink.Config{},
	"transform": transform.Config{}, "quality": quality.Config{}, "metrics": metrics.Config{},
}

// metricsAddr names the variable of the address that serves each service's
// /metrics: the intake's HTTP address, the others' ops address.
var metricsAddr = map[string]string{
	"intake": "RIACHO_INTAKE_ADDR", "cdc": "RIACHO_CDC_OPS_ADDR", "sink": "RIACHO_SINK_OPS_ADDR",
	"transform": "RIACHO_TRANSFORM_OPS_ADDR", "quality": "RIACHO_QUALITY_OPS_ADDR", "metrics": "RIACHO_METRICS_OPS_ADDR",
}

// libraryEnv lists variables a service reads through a library rather than
// its Config, with where that is documented.
var libraryEnv = map[string][]string{
	// docs/sink.md: object-store credentials come from the environment as gocloud.dev reads them.
	"sink": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"},
}

// stack is everything the checks look at.
type stack struct {
	project    *types.Project
	raw        string            // docker-compose.yml as written
	envExample map[string]string // .env.example
	dockerfile string
	prometheus promConfig
	root       string
}

// promConfig is the part of prometheus.yml the checks read.
type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// files are the stack's inputs as text, so tests can break one.
type files struct {
	compose, envExample, dockerfile, prometheus string
}

// readFiles reads the committed inputs.
func readFiles(t *testing.T) files {
	t.Helper()
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return files{
		compose: read("docker-compose.yml"), envExample: read(".env.example"),
		dockerfile: read("Dockerfile"), prometheus: read("deploy/compose/prometheus.yml"),
	}
}

// load parses f as docker compose would with .env.example as .env.
func load(f files) (*stack, error) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return nil, err
	}
	env, err := dotenv.ParseWithLookup(strings.NewReader(f.envExample), nil)
	if err != nil {
		return nil, fmt.Errorf(".env.example: %w", err)
	}
	// The loader adds its own entries to the map it is given.
	loaderEnv := maps.Clone(env)
	details := types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml"), Content: []byte(f.compose)}},
		Environment: loaderEnv,
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("riacho", true)
		o.SkipResolveEnvironment = true
	})
	if err != nil {
		return nil, fmt.Errorf("load docker-compose.yml: %w", err)
	}
	s := &stack{project: p, raw: f.compose, envExample: env, dockerfile: f.dockerfile, root: root}
	if err := yaml.Unmarshal([]byte(f.prometheus), &s.prometheus); err != nil {
		return nil, fmt.Errorf("deploy/compose/prometheus.yml: %w", err)
	}
	return s, nil
}

// environment returns the variables service sets: its environment plus its
// env_file entries (.env read as .env.example, which it is copied from).
func (s *stack) environment(svc types.ServiceConfig) (map[string]string, error) {
	env := map[string]string{}
	for _, ef := range svc.EnvFiles {
		path := ef.Path
		if filepath.Base(path) == ".env" {
			path = filepath.Join(filepath.Dir(path), ".env.example")
		}
		vals, err := dotenv.GetEnvFromFile(nil, []string{path})
		if err != nil {
			return nil, fmt.Errorf("service %s: env_file %s: %w", svc.Name, ef.Path, err)
		}
		for k, v := range vals {
			env[k] = v
		}
	}
	for k, v := range svc.Environment {
		if v != nil {
			env[k] = *v
		} else {
			env[k] = ""
		}
	}
	return env, nil
}

// variables returns the envconf variables of a riacho service by name.
func variables(name string) map[string]envconf.Variable {
	out := map[string]envconf.Variable{}
	for _, v := range envconf.Variables(configs[name]) {
		out[v.Name] = v
	}
	return out
}

// riacho lists the riacho services of the project, sorted.
func (s *stack) riacho() []types.ServiceConfig {
	var out []types.ServiceConfig
	for _, name := range s.project.ServiceNames() {
		if _, ok := configs[name]; ok {
			out = append(out, s.project.Services[name])
		}
	}
	return out
}
