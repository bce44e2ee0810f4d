package k8s

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// secretName is the Secret every Deployment reads; the dev overlay
// generates it (with a hash suffix), production creates it outside.
const secretName = "riacho-secrets"

// secretExample is the documented list of the Secret's keys.
const secretExample = "base/secrets.example.env"

// envValue is one container variable and where its value comes from.
type envValue struct {
	value  string
	source string // "literal", "configmap <name>", "secret <name>", "field"
}

// deployed is one service as a rendered kustomization runs it.
type deployed struct {
	svc service
	dep *appsv1.Deployment
	ctr *corev1.Container
	env map[string]envValue
	cfg loaded
}

// where names the object in errors.
func (d *deployed) where(m *manifests) string {
	return fmt.Sprintf("%s: Deployment %s", m.target, d.dep.Name)
}

// analyse finds each service's Deployment and container, resolves the
// container's environment, and loads the service's configuration from it
// with the mounted content written to dir.
func analyse(m *manifests, example map[string]string, dir string) ([]*deployed, []error) {
	var (
		out  []*deployed
		errs []error
	)
	for _, svc := range services() {
		d := &deployed{svc: svc}
		for _, dep := range m.deployments {
			if dep.Name == svc.name {
				d.dep = dep
			}
		}
		if d.dep == nil {
			errs = append(errs, fmt.Errorf("%s: no Deployment %s", m.target, svc.name))
			continue
		}
		for i := range d.dep.Spec.Template.Spec.Containers {
			if c := &d.dep.Spec.Template.Spec.Containers[i]; c.Name == svc.name {
				d.ctr = c
			}
		}
		if d.ctr == nil {
			errs = append(errs, fmt.Errorf("%s: no container %s", d.where(m), svc.name))
			continue
		}
		var err error
		d.env, err = resolveEnv(m, d.ctr, example)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.where(m), err))
		}
		root := filepath.Join(dir, m.target, svc.name)
		environ, err := materialise(m, d, root)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.where(m), err))
		}
		d.cfg, err = svc.load(context.Background(), environ)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: configuration: %w", d.where(m), err))
		}
		out = append(out, d)
	}
	return out, errs
}

// resolveEnv collects the container's variables from envFrom and env.
// ConfigMaps must be in the rendering; a Secret is read from the rendering
// when it is there (dev) and from the documented example otherwise
// (created outside, prod), and its keys must be documented either way.
func resolveEnv(m *manifests, c *corev1.Container, example map[string]string) (map[string]envValue, error) {
	env := map[string]envValue{}
	var errs []error
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := m.configMaps[from.ConfigMapRef.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("envFrom: ConfigMap %s is not in the rendering", from.ConfigMapRef.Name))
				continue
			}
			for k, v := range cm.Data {
				env[from.Prefix+k] = envValue{v, "configmap " + cm.Name}
			}
		case from.SecretRef != nil:
			data, err := secretData(m, from.SecretRef.Name, example)
			if err != nil {
				errs = append(errs, fmt.Errorf("envFrom: %w", err))
				continue
			}
			for k, v := range data {
				env[from.Prefix+k] = envValue{v, "secret " + from.SecretRef.Name}
			}
		}
	}
	for _, e := range c.Env {
		v, err := envVar(m, e, example)
		if err != nil {
			errs = append(errs, fmt.Errorf("env %s: %w", e.Name, err))
			continue
		}
		env[e.Name] = v
	}
	return env, errors.Join(errs...)
}

// envVar resolves one env entry.
func envVar(m *manifests, e corev1.EnvVar, example map[string]string) (envValue, error) {
	switch {
	case e.ValueFrom == nil:
		return envValue{e.Value, "literal"}, nil
	case e.ValueFrom.SecretKeyRef != nil:
		ref := e.ValueFrom.SecretKeyRef
		data, err := secretData(m, ref.Name, example)
		if err != nil {
			return envValue{}, err
		}
		if _, ok := example[ref.Key]; !ok {
			return envValue{}, fmt.Errorf("secret key %s is not declared in %s", ref.Key, secretExample)
		}
		v, ok := data[ref.Key]
		if !ok && (ref.Optional == nil || !*ref.Optional) {
			return envValue{}, fmt.Errorf("Secret %s has no key %s", ref.Name, ref.Key)
		}
		return envValue{v, "secret " + ref.Name}, nil
	case e.ValueFrom.ConfigMapKeyRef != nil:
		ref := e.ValueFrom.ConfigMapKeyRef
		cm, ok := m.configMaps[ref.Name]
		if !ok {
			return envValue{}, fmt.Errorf("ConfigMap %s is not in the rendering", ref.Name)
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			return envValue{}, fmt.Errorf("ConfigMap %s has no key %s", ref.Name, ref.Key)
		}
		return envValue{v, "configmap " + ref.Name}, nil
	}
	return envValue{"field-value", "field"}, nil
}

// secretData is the content of the Secret name: the rendered one, or the
// documented example for the externally created riacho-secrets.
func secretData(m *manifests, name string, example map[string]string) (map[string]string, error) {
	if s, ok := m.secrets[name]; ok {
		data := map[string]string{}
		for k, v := range s.Data {
			data[k] = string(v)
		}
		maps.Copy(data, s.StringData)
		return data, nil
	}
	if name != secretName {
		return nil, fmt.Errorf("Secret %s is neither rendered nor the external %s", name, secretName)
	}
	return example, nil
}

// materialise writes the container's configMap volumes under root at
// their mount paths, creates its emptyDir mounts, and returns the
// container's environment with the paths into those mounts moved under root.
func materialise(m *manifests, d *deployed, root string) ([]string, error) {
	var (
		errs   []error
		mounts []string
	)
	volumes := map[string]corev1.Volume{}
	for _, v := range d.dep.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, vm := range d.ctr.VolumeMounts {
		v, ok := volumes[vm.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("volumeMount %s: no such volume", vm.Name))
			continue
		}
		dir := filepath.Join(root, filepath.FromSlash(vm.MountPath))
		mounts = append(mounts, vm.MountPath)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		if v.ConfigMap != nil {
			if err := writeConfigMap(m, v, dir); err != nil {
				errs = append(errs, fmt.Errorf("volume %s: %w", v.Name, err))
			}
		}
	}
	// Longest mount first, so that a nested mount wins.
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	var environ []string
	for k, v := range d.env {
		val := v.value
		for _, mp := range mounts {
			if val == mp || strings.HasPrefix(val, strings.TrimSuffix(mp, "/")+"/") {
				val = filepath.Join(root, filepath.FromSlash(val))
				break
			}
		}
		environ = append(environ, k+"="+val)
	}
	slices.Sort(environ)
	return environ, errors.Join(errs...)
}

// writeConfigMap writes a configMap volume's files into dir: its items
// (each key must exist) or every key.
func writeConfigMap(m *manifests, v corev1.Volume, dir string) error {
	cm, ok := m.configMaps[v.ConfigMap.Name]
	if !ok {
		return fmt.Errorf("ConfigMap %s is not in the rendering", v.ConfigMap.Name)
	}
	files := map[string]string{}
	for _, it := range v.ConfigMap.Items {
		data, ok := cm.Data[it.Key]
		if !ok {
			return fmt.Errorf("item key %s is not in ConfigMap %s", it.Key, cm.Name)
		}
		files[it.Path] = data
	}
	if len(v.ConfigMap.Items) == 0 {
		maps.Copy(files, cm.Data)
	}
	for p, data := range files {
		target := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(target, []byte(data), 0o600); err != nil {
			return err
		}
	}
	return nil
}
