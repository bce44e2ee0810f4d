package compose

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// fromLine matches a Dockerfile FROM instruction.
var fromLine = regexp.MustCompile(`(?im)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?\s*$`)

// checkDockerfile: the Dockerfile is multi-stage, every base image is
// pinned, and the final stage runs as a non-root user.
func checkDockerfile(s *stack) []error {
	var errs []error
	froms := fromLine.FindAllStringSubmatchIndex(s.dockerfile, -1)
	if len(froms) < 2 {
		return []error{fmt.Errorf("Dockerfile has %d stages, want a multi-stage build", len(froms))}
	}
	for _, m := range froms {
		img := s.dockerfile[m[2]:m[3]]
		img = strings.ReplaceAll(img, "${RUNTIME}", "static")
		if err := pinned(img); err != nil {
			errs = append(errs, fmt.Errorf("Dockerfile: %w", err))
		}
	}
	final := s.dockerfile[froms[len(froms)-1][0]:]
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(final, -1)
	if len(users) == 0 {
		return append(errs, fmt.Errorf("Dockerfile: the final stage sets no USER, so it runs as root"))
	}
	u := strings.Split(users[len(users)-1][1], ":")[0]
	if u == "root" || u == "0" {
		errs = append(errs, fmt.Errorf("Dockerfile: the final stage runs as %s", users[len(users)-1][1]))
	}
	if !strings.Contains(final, "/riachoctl") {
		errs = append(errs, fmt.Errorf("Dockerfile: the final stage lacks /riachoctl, the healthcheck probe"))
	}
	return errs
}

// checkRuntime: a service whose module links DuckDB (cgo) is built with
// RUNTIME=cc, every other one with RUNTIME=static.
func checkRuntime(s *stack) []error {
	var errs []error
	for _, svc := range s.riacho() {
		if svc.Build == nil {
			errs = append(errs, fmt.Errorf("service %s is not built from the Dockerfile", svc.Name))
			continue
		}
		mod, err := os.ReadFile(filepath.Join(s.root, "services", svc.Name, "go.mod"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		want := "static"
		if strings.Contains(string(mod), "github.com/duckdb/duckdb-go") {
			want = "cc"
		}
		got := ""
		if v := svc.Build.Args["RUNTIME"]; v != nil {
			got = *v
		}
		if svc.Build.Args["SERVICE"] == nil || *svc.Build.Args["SERVICE"] != svc.Name {
			errs = append(errs, fmt.Errorf("service %s: build arg SERVICE is not %s", svc.Name, svc.Name))
		}
		if got != want {
			errs = append(errs, fmt.Errorf("service %s: build arg RUNTIME=%q, want %q (cgo DuckDB: %v)", svc.Name, got, want, want == "cc"))
		}
	}
	return errs
}

// checkScrapeTargets: Prometheus scrapes /metrics of every riacho service on
// the port its metrics address listens on, and loads the alert rules.
func checkScrapeTargets(s *stack) []error {
	var errs []error
	var targets []string
	for _, sc := range s.prometheus.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	for _, svc := range s.riacho() {
		name := metricsAddr[svc.Name]
		if _, ok := variables(svc.Name)[name]; !ok {
			errs = append(errs, fmt.Errorf("service %s: %s is not a variable of its Config", svc.Name, name))
			continue
		}
		v := svc.Environment[name]
		if v == nil {
			errs = append(errs, fmt.Errorf("service %s: %s is not set", svc.Name, name))
			continue
		}
		_, port, err := net.SplitHostPort(*v)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %s: %s: %w", svc.Name, name, err))
			continue
		}
		if want := svc.Name + ":" + port; !slices.Contains(targets, want) {
			errs = append(errs, fmt.Errorf("prometheus.yml does not scrape %s (%s)", want, name))
		}
	}
	if !slices.Contains(s.prometheus.RuleFiles, "/etc/prometheus/alerts.yml") {
		errs = append(errs, fmt.Errorf("prometheus.yml does not load /etc/prometheus/alerts.yml"))
	}
	return errs
}

// interpolated matches ${VAR...} references (not $${...}, which is escaped).
var interpolated = regexp.MustCompile(`(^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*)`)

// checkEnvExample: every variable docker-compose.yml interpolates is in
// .env.example and every .env.example entry is used, so `cp .env.example .env`
// gives a complete .env with nothing stale.
func checkEnvExample(s *stack) []error {
	var errs []error
	used := map[string]bool{}
	for _, m := range interpolated.FindAllStringSubmatch(s.raw, -1) {
		used[m[2]] = true
		if _, ok := s.envExample[m[2]]; !ok {
			errs = append(errs, fmt.Errorf("docker-compose.yml uses ${%s}, which .env.example does not list", m[2]))
		}
	}
	for k := range s.envExample {
		if !used[k] {
			errs = append(errs, fmt.Errorf(".env.example lists %s, which docker-compose.yml does not use", k))
		}
	}
	return errs
}
