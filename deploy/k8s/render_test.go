package k8s

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// manifests is one rendered kustomization, every object decoded into its type.
type manifests struct {
	target          string // "base", "overlays/dev", ...
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	serviceAccounts []*corev1.ServiceAccount
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	namespaces      []*corev1.Namespace
	pdbs            []*policyv1.PodDisruptionBudget
	netpols         []*networkingv1.NetworkPolicy
	scaledObjects   []*scaledObject
	topics          []*kafkaTopic
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
}

// monitoringStub stands in for base/monitoring while that directory does
// not exist yet, so the base (which lists it) renders.
const monitoringStub = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"

// renderYAML builds target (a directory relative to deploy/k8s) with krusty
// from a copy of the tree on disk, adding the monitoring stub when the
// real directory is absent.
func renderYAML(t *testing.T, target string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"base", "overlays"} {
		if err := copyTree(sub, filepath.Join(dir, sub)); err != nil {
			t.Fatal(err)
		}
	}
	mon := filepath.Join(dir, "base", "monitoring")
	if _, err := os.Stat(mon); errors.Is(err, fs.ErrNotExist) {
		t.Logf("base/monitoring does not exist yet: rendering %s with an empty stand-in", target)
		if err := os.MkdirAll(mon, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mon, "kustomization.yaml"), []byte(monitoringStub), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(dir, target))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", target, err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", target, err)
	}
	return string(out)
}

// copyTree copies the directory src into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}

// typeMeta is what picks an object's Go type.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// decode splits a multi-document YAML stream and decodes every document
// strictly (unknown fields, duplicate keys and wrong types are errors) into the type of its
// apiVersion and kind; an unknown kind is an error.
func decode(target, stream string) (*manifests, error) {
	m := &manifests{target: target, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	var errs []error
	for i, doc := range strings.Split(stream, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm typeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", target, i+1, err))
			continue
		}
		if err := m.add(tm, []byte(doc)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %s/%s: %w", target, tm.APIVersion, tm.Kind, tm.Metadata.Name, err))
		}
	}
	return m, errors.Join(errs...)
}

// add decodes one document into the slot of its kind.
func (m *manifests) add(tm typeMeta, doc []byte) error {
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		return strictInto(doc, &m.deployments)
	case "v1 Service":
		return strictInto(doc, &m.services)
	case "v1 ServiceAccount":
		return strictInto(doc, &m.serviceAccounts)
	case "v1 Namespace":
		return strictInto(doc, &m.namespaces)
	case "policy/v1 PodDisruptionBudget":
		return strictInto(doc, &m.pdbs)
	case "networking.k8s.io/v1 NetworkPolicy":
		return strictInto(doc, &m.netpols)
	case "keda.sh/v1alpha1 ScaledObject":
		return strictInto(doc, &m.scaledObjects)
	case "kafka.strimzi.io/v1beta2 KafkaTopic":
		return strictInto(doc, &m.topics)
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return strictInto(doc, &m.serviceMonitors)
	case "monitoring.coreos.com/v1 PrometheusRule":
		return strictInto(doc, &m.rules)
	case "v1 ConfigMap":
		var cm corev1.ConfigMap
		if err := strict(doc, &cm); err != nil {
			return err
		}
		m.configMaps[cm.Name] = &cm
		return nil
	case "v1 Secret":
		var s corev1.Secret
		if err := strict(doc, &s); err != nil {
			return err
		}
		m.secrets[s.Name] = &s
		return nil
	}
	return errors.New("unknown kind: the checks decode only the kinds they know")
}

// strictInto decodes doc strictly into a new T and appends it to list.
func strictInto[T any](doc []byte, list *[]*T) error {
	v := new(T)
	if err := strict(doc, v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// strict decodes a YAML document into v as the API server reads it: the
// YAML becomes JSON without looking at v (so a number stays a number where
// a string is wanted), then unknown fields are errors.
func strict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// readEnvFile reads a KEY=value file as kustomize and the secret example
// write it: blank lines and # comments are skipped.
func readEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for n, line := range bytes.Split(b, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: not KEY=value", path, n+1)
		}
		out[k] = v
	}
	return out, nil
}
