package compose

import (
	"errors"
	"strings"
	"testing"
)

// checks are every rule of the stack, by name.
var checks = []struct {
	name string
	fn   check
}{
	{"environment known to the service", checkEnvKnown},
	{"required variables set", checkRequiredSet},
	{"addresses match published ports", checkAddrPorts},
	{"dialled hosts are dependencies", checkDials},
	{"healthchecks", checkHealthchecks},
	{"mounts exist and are read-only", checkMounts},
	{"images pinned", checkImages},
	{"ports on loopback", checkPorts},
	{"Dockerfile multi-stage and non-root", checkDockerfile},
	{"cgo runtime per service", checkRuntime},
	{"Prometheus scrapes every service", checkScrapeTargets},
	{".env.example matches the interpolations", checkEnvExample},
}

// TestStack runs every check on the committed files.
func TestStack(t *testing.T) {
	s, err := load(readFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.riacho()) != len(configs) {
		t.Fatalf("docker-compose.yml has %d of the %d riacho services", len(s.riacho()), len(configs))
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range c.fn(s) {
				t.Error(err)
			}
		})
	}
}

// replace returns a mutation of one input file.
func replace(field func(*files) *string, old, new string) func(*testing.T, *files) {
	return func(t *testing.T, f *files) {
		t.Helper()
		p := field(f)
		if !strings.Contains(*p, old) {
			t.Fatalf("mutation target %q not found", old)
		}
		*p = strings.Replace(*p, old, new, 1)
	}
}

func composeFile(f *files) *string    { return &f.compose }
func envFile(f *files) *string        { return &f.envExample }
func dockerfile(f *files) *string     { return &f.dockerfile }
func prometheusFile(f *files) *string { return &f.prometheus }

// TestChecksCatchBreakage proves each check fails on a broken input, with an
// error that names the offending thing.
func TestChecksCatchBreakage(t *testing.T) {
	tests := []struct {
		name   string
		check  check
		mutate func(*testing.T, *files)
		want   string
	}{
		{"unknown variable", checkEnvKnown,
			replace(composeFile, "RIACHO_SINK_INSTANCE_ID: sink-1", "RIACHO_SINK_INSTANCE: sink-1"), "service sink: RIACHO_SINK_INSTANCE is not read"},
		{"variable of another service", checkEnvKnown,
			replace(composeFile, "RIACHO_QUALITY_INSTANCE_ID: quality-1", "RIACHO_TRANSFORM_INSTANCE_ID: quality-1"), "service quality: RIACHO_TRANSFORM_INSTANCE_ID"},
		{"address left on its default", checkRequiredSet,
			replace(composeFile, "      RIACHO_CDC_OPS_ADDR: 0.0.0.0:9202\n", ""), "service cdc: RIACHO_CDC_OPS_ADDR is not set"},
		{"address port not published", checkAddrPorts,
			replace(composeFile, "RIACHO_TRANSFORM_OPS_ADDR: 0.0.0.0:9204", "RIACHO_TRANSFORM_OPS_ADDR: 0.0.0.0:9299"), "service transform: RIACHO_TRANSFORM_OPS_ADDR port 9299"},
		{"address on loopback", checkAddrPorts,
			replace(composeFile, "RIACHO_METRICS_HTTP_ADDR: 0.0.0.0:9306", "RIACHO_METRICS_HTTP_ADDR: 127.0.0.1:9306"), "listens on 127.0.0.1 only"},
		{"dialled host not a dependency", checkDials,
			replace(composeFile, "      minio: {condition: service_healthy}\n      minio-init", "      minio-init"), "service sink: RIACHO_SINK_LAKE_URL dials minio but it does not depend_on minio"},
		{"dialled host unknown", checkDials,
			replace(composeFile, "@postgres:5432/warehouse", "@pg:5432/warehouse"), "dials pg, which is not a compose service"},
		{"healthy dependency waited as started", checkDials,
			replace(composeFile, "      postgres: {condition: service_healthy}\n    environment:\n      <<: *riacho-env\n      RIACHO_CONTROL_ADDR: 0.0.0.0:9106",
				"      postgres: {condition: service_started}\n    environment:\n      <<: *riacho-env\n      RIACHO_CONTROL_ADDR: 0.0.0.0:9106"), "service metrics waits for postgres with service_started"},
		{"healthcheck on another port", checkHealthchecks,
			replace(composeFile, `"--addr", "127.0.0.1:9105"`, `"--addr", "127.0.0.1:9101"`), "service quality: healthcheck"},
		{"healthcheck missing", checkHealthchecks,
			replace(composeFile, `test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:3000/api/health"]`, `disable: true`), "service grafana has no healthcheck"},
		{"mounted file missing", checkMounts,
			replace(composeFile, "./deploy/compose/cdc.yaml:", "./deploy/compose/cdc-sources.yaml:"), "cdc-sources.yaml does not exist"},
		{"writable mount", checkMounts,
			replace(composeFile, "/etc/riacho/quality:ro", "/etc/riacho/quality"), "service quality:"},
		{"writable root", checkMounts,
			replace(composeFile, "  read_only: true\n", ""), "read_only is not set"},
		{"image on latest", checkImages,
			replace(composeFile, "prom/prometheus:v3.4.1", "prom/prometheus:latest"), "service prometheus: image \"prom/prometheus:latest\" uses latest"},
		{"image without tag", checkImages,
			replace(composeFile, "image: riacho/sink:dev", "image: riacho/sink"), "has no tag"},
		{"port on every interface", checkPorts,
			replace(composeFile, `"127.0.0.1:3000:3000"`, `"3000:3000"`), "service grafana: port 3000"},
		{"single-stage Dockerfile", checkDockerfile,
			replace(dockerfile, "FROM golang:1.26.8-bookworm AS build", "# no build stage"), "multi-stage"},
		{"root final stage", checkDockerfile,
			replace(dockerfile, "USER nonroot:nonroot", "USER root"), "runs as root"},
		{"unpinned base", checkDockerfile,
			replace(dockerfile, "golang:1.26.8-bookworm", "golang"), "has no tag"},
		{"cgo service on static", checkRuntime,
			replace(composeFile, "SERVICE: metrics, RUNTIME: cc", "SERVICE: metrics, RUNTIME: static"), "service metrics: build arg RUNTIME=\"static\", want \"cc\""},
		{"scrape target missing", checkScrapeTargets,
			replace(prometheusFile, `"quality:9205"`, `"quality:9105"`), "does not scrape quality:9205"},
		{"rules not loaded", checkScrapeTargets,
			replace(prometheusFile, "/etc/prometheus/alerts.yml", "/etc/prometheus/rules.yml"), "does not load"},
		{"stale .env.example entry", checkEnvExample,
			replace(envFile, "GRAFANA_ADMIN_PASSWORD=change-me-grafana", "GRAFANA_ADMIN_PASSWORD=change-me-grafana\nOLD_SECRET=x"), ".env.example lists OLD_SECRET"},
		{"interpolation missing from .env.example", checkEnvExample,
			replace(composeFile, "RIACHO_QUALITY_STEWARDS_URL: ${RIACHO_QUALITY_STEWARDS_URL:-}", "RIACHO_QUALITY_STEWARDS_URL: ${QUALITY_STEWARDS:-}"), "uses ${QUALITY_STEWARDS}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := readFiles(t)
			tt.mutate(t, &f)
			s, err := load(f)
			if err != nil {
				t.Fatal(err)
			}
			err = errors.Join(tt.check(s)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("check error = %v\nwant one containing %q", err, tt.want)
			}
		})
	}
}

// TestMissingSecretFailsLoad proves docker compose refuses to start when
// .env lacks a required secret, instead of starting without it.
func TestMissingSecretFailsLoad(t *testing.T) {
	f := readFiles(t)
	replace(envFile, "POSTGRES_PASSWORD=change-me-postgres\n", "")(t, &f)
	_, err := load(f)
	if err == nil || !strings.Contains(err.Error(), "set POSTGRES_PASSWORD in .env") {
		t.Fatalf("load error = %v, want the POSTGRES_PASSWORD message", err)
	}
}
