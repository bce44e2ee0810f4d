package compose

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// check is one rule the stack must keep; it returns every violation.
type check func(s *stack) []error

// checkEnvKnown: every variable a riacho service is given is one its Config
// reads, one a mounted content file names with a *_env key, or one a
// library it uses reads (libraryEnv).
func checkEnvKnown(s *stack) []error {
	var errs []error
	for _, svc := range s.riacho() {
		env, err := s.environment(svc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		known := variables(svc.Name)
		refs, refErrs := s.contentEnvRefs(svc)
		errs = append(errs, refErrs...)
		for k := range env {
			if _, ok := known[k]; ok || slices.Contains(refs, k) || slices.Contains(libraryEnv[svc.Name], k) {
				continue
			}
			errs = append(errs, fmt.Errorf("service %s: %s is not read by %s's Config, its content files or its libraries", svc.Name, k, svc.Name))
		}
	}
	return errs
}

// contentEnvRefs returns the values of every *_env key in the YAML files the
// service mounts (the CDC's url_env, the metrics policy's token_env, ...).
func (s *stack) contentEnvRefs(svc types.ServiceConfig) ([]string, []error) {
	var refs []string
	var errs []error
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		_ = filepath.WalkDir(v.Source, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("service %s: mount %s: %w", svc.Name, v.Source, err))
				return nil
			}
			if d.IsDir() || (!strings.HasSuffix(p, ".yml") && !strings.HasSuffix(p, ".yaml")) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("service %s: %w", svc.Name, err))
				return nil
			}
			var doc any
			if err := yaml.Unmarshal(b, &doc); err != nil {
				errs = append(errs, fmt.Errorf("service %s: %s: %w", svc.Name, p, err))
				return nil
			}
			refs = append(refs, envKeys(doc)...)
			return nil
		})
	}
	return refs, errs
}

// envKeys collects the string values of keys ending in _env in doc.
func envKeys(doc any) []string {
	var out []string
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			if str, ok := v.(string); ok && strings.HasSuffix(k, "_env") {
				out = append(out, str)
			}
			out = append(out, envKeys(v)...)
		}
	case []any:
		for _, v := range d {
			out = append(out, envKeys(v)...)
		}
	}
	return out
}

// checkRequiredSet: every Required variable of a service's Config is set,
// and so is every address variable with a default (a default listens on
// 127.0.0.1, which nothing outside the container reaches).
func checkRequiredSet(s *stack) []error {
	var errs []error
	for _, svc := range s.riacho() {
		env, err := s.environment(svc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for name, v := range variables(svc.Name) {
			_, set := env[name]
			switch {
			case v.Required && !set:
				errs = append(errs, fmt.Errorf("service %s: required %s is not set", svc.Name, name))
			case strings.HasSuffix(name, "_ADDR") && v.HasDefault && v.Default != "" && !set:
				errs = append(errs, fmt.Errorf("service %s: %s is not set, so it listens on its default %s, unreachable from other containers", svc.Name, name, v.Default))
			}
		}
	}
	return errs
}

// checkAddrPorts: every RIACHO_*_ADDR listens on all interfaces on a port
// the service publishes, and every published port is one of its addresses.
func checkAddrPorts(s *stack) []error {
	var errs []error
	for _, svc := range s.riacho() {
		env, err := s.environment(svc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var listen []string
		for k, v := range env {
			if !strings.HasPrefix(k, "RIACHO_") || !strings.HasSuffix(k, "_ADDR") {
				continue
			}
			host, port, err := net.SplitHostPort(v)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("service %s: %s=%q is not host:port: %w", svc.Name, k, v, err))
				continue
			case host != "" && host != "0.0.0.0":
				errs = append(errs, fmt.Errorf("service %s: %s=%q listens on %s only; use 0.0.0.0", svc.Name, k, v, host))
			}
			listen = append(listen, port)
			if !slices.ContainsFunc(svc.Ports, func(p types.ServicePortConfig) bool { return fmt.Sprint(p.Target) == port }) {
				errs = append(errs, fmt.Errorf("service %s: %s port %s is not in its ports", svc.Name, k, port))
			}
		}
		for _, p := range svc.Ports {
			if !slices.Contains(listen, fmt.Sprint(p.Target)) {
				errs = append(errs, fmt.Errorf("service %s: publishes container port %d, which no RIACHO_*_ADDR listens on", svc.Name, p.Target))
			}
		}
	}
	return errs
}

// hostPort matches a bare host:port (brokers, OTLP endpoints).
var hostPort = regexp.MustCompile(`^([a-z][a-z0-9-]*):[0-9]+$`)

// dialled returns the host names a variable's value points at.
func dialled(value string) []string {
	var out []string
	for part := range strings.SplitSeq(value, ",") {
		part = strings.TrimSpace(part)
		if strings.Contains(part, "://") {
			u, err := url.Parse(part)
			if err != nil {
				continue
			}
			if ep := u.Query().Get("endpoint"); ep != "" {
				out = append(out, dialled(ep)...)
			}
			// Object-store URLs name a bucket, not a host.
			if u.Hostname() != "" && !slices.Contains([]string{"s3", "gs", "azblob"}, u.Scheme) {
				out = append(out, u.Hostname())
			}
			continue
		}
		if m := hostPort.FindStringSubmatch(part); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

// checkDials: every host a riacho service's variables point at is a compose
// service it depends on, waiting for it to be healthy when it has a
// healthcheck and for one-shot jobs to complete.
func checkDials(s *stack) []error {
	var errs []error
	for _, svc := range s.riacho() {
		env, err := s.environment(svc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for k, v := range env {
			for _, host := range dialled(v) {
				if host == "localhost" || host == "127.0.0.1" || host == "0.0.0.0" {
					continue
				}
				if _, ok := s.project.Services[host]; !ok {
					errs = append(errs, fmt.Errorf("service %s: %s dials %s, which is not a compose service", svc.Name, k, host))
					continue
				}
				if _, ok := svc.DependsOn[host]; !ok {
					errs = append(errs, fmt.Errorf("service %s: %s dials %s but it does not depend_on %s", svc.Name, k, host, host))
				}
			}
		}
	}
	return append(errs, checkConditions(s)...)
}

// checkConditions: a dependency with a healthcheck is waited for as
// service_healthy, a one-shot job (restart "no") as completed.
func checkConditions(s *stack) []error {
	var errs []error
	for _, name := range s.project.ServiceNames() {
		for dep, d := range s.project.Services[name].DependsOn {
			target, ok := s.project.Services[dep]
			if !ok {
				errs = append(errs, fmt.Errorf("service %s depends on unknown service %s", name, dep))
				continue
			}
			want := types.ServiceConditionStarted
			switch {
			case target.Restart == "no":
				want = types.ServiceConditionCompletedSuccessfully
			case target.HealthCheck != nil && !target.HealthCheck.Disable:
				want = types.ServiceConditionHealthy
			}
			if d.Condition != want {
				errs = append(errs, fmt.Errorf("service %s waits for %s with %s, want %s", name, dep, d.Condition, want))
			}
		}
	}
	return errs
}

// noHealthcheck lists the services that cannot have one, with the reason.
var noHealthcheck = map[string]string{
	"otel-collector": "its image has neither a shell nor a probe binary; dependents wait for service_started",
	"minio-init":     "a one-shot job; dependents wait for service_completed_successfully",
}

// checkHealthchecks: every service has a healthcheck (noHealthcheck
// aside); a riacho service's is riachoctl health on its own control port.
func checkHealthchecks(s *stack) []error {
	var errs []error
	for _, name := range s.project.ServiceNames() {
		svc := s.project.Services[name]
		if _, exempt := noHealthcheck[name]; exempt {
			continue
		}
		if svc.HealthCheck == nil || len(svc.HealthCheck.Test) == 0 {
			errs = append(errs, fmt.Errorf("service %s has no healthcheck", name))
			continue
		}
		if _, ok := configs[name]; !ok {
			continue
		}
		ctl := ""
		if v := svc.Environment["RIACHO_CONTROL_ADDR"]; v != nil {
			_, ctl, _ = net.SplitHostPort(*v)
		}
		test := strings.Join(svc.HealthCheck.Test, " ")
		if !strings.HasPrefix(test, "CMD /riachoctl ") || !strings.Contains(test, "--addr 127.0.0.1:"+ctl+" ") || !strings.HasSuffix(test, " health") {
			errs = append(errs, fmt.Errorf("service %s: healthcheck %q is not riachoctl health on its control port %s", name, test, ctl))
		}
	}
	return errs
}

// checkMounts: every bind-mounted path exists in the repository; a riacho
// service mounts read-only, runs with a read-only root file system and has
// a tmpfs for scratch files.
func checkMounts(s *stack) []error {
	var errs []error
	for _, name := range s.project.ServiceNames() {
		svc := s.project.Services[name]
		_, isRiacho := configs[name]
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				errs = append(errs, fmt.Errorf("service %s: mounted %s does not exist: %w", name, v.Source, err))
			} else if !strings.HasPrefix(v.Source, s.root+string(filepath.Separator)) {
				errs = append(errs, fmt.Errorf("service %s: mounts %s from outside the repository", name, v.Source))
			}
			if !v.ReadOnly {
				errs = append(errs, fmt.Errorf("service %s: %s is mounted writable", name, v.Source))
			}
		}
		if isRiacho && !svc.ReadOnly {
			errs = append(errs, fmt.Errorf("service %s: read_only is not set", name))
		}
		if isRiacho && !slices.Contains(svc.Tmpfs, "/tmp") {
			errs = append(errs, fmt.Errorf("service %s: no tmpfs on /tmp", name))
		}
	}
	return errs
}

// checkImages: every image is pinned to a tag other than latest.
func checkImages(s *stack) []error {
	var errs []error
	for _, name := range s.project.ServiceNames() {
		img := s.project.Services[name].Image
		if err := pinned(img); err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", name, err))
		}
	}
	return errs
}

// pinned reports an image reference without a tag (or digest) or on latest.
func pinned(img string) error {
	if strings.Contains(img, "@sha256:") {
		return nil
	}
	tag := ""
	if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
		tag = img[i+1:]
	}
	switch tag {
	case "":
		return fmt.Errorf("image %q has no tag", img)
	case "latest":
		return fmt.Errorf("image %q uses latest", img)
	}
	return nil
}

// checkPorts: every published port is bound to 127.0.0.1.
func checkPorts(s *stack) []error {
	var errs []error
	for _, name := range s.project.ServiceNames() {
		for _, p := range s.project.Services[name].Ports {
			if p.HostIP != "127.0.0.1" {
				errs = append(errs, fmt.Errorf("service %s: port %d is published on %q, not 127.0.0.1", name, p.Target, p.HostIP))
			}
		}
	}
	return errs
}
