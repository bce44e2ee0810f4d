package k8s

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
)

// targets are the kustomizations rendered and checked.
var targets = []string{"base", "overlays/dev", "overlays/prod"}

// load renders and decodes target, and analyses its services.
func load(t *testing.T, target string) (*manifests, []*deployed) {
	t.Helper()
	m, ds, err := loadStream(t, target, renderYAML(t, target))
	if err != nil {
		t.Fatal(err)
	}
	return m, ds
}

// loadStream decodes a rendered stream and analyses its services.
func loadStream(t *testing.T, target, stream string) (*manifests, []*deployed, error) {
	t.Helper()
	example, err := readEnvFile(secretExample)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decode(target, stream)
	if err != nil {
		return m, nil, err
	}
	ds, errs := analyse(m, example, t.TempDir())
	return m, ds, errors.Join(errs...)
}

// runChecks runs every check and joins what they find.
func runChecks(m *manifests, ds []*deployed) error {
	var errs []error
	for _, c := range checks {
		for _, err := range c.run(m, ds) {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

func TestManifests(t *testing.T) {
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			m, ds := load(t, target)
			if len(ds) != len(services()) {
				t.Fatalf("found %d of the %d services", len(ds), len(services()))
			}
			for _, c := range checks {
				for _, err := range c.run(m, ds) {
					t.Errorf("%s: %v", c.name, err)
				}
			}
		})
	}
}

func TestDevOverlay(t *testing.T) {
	m, ds := load(t, "overlays/dev")
	if err := checkDev(m, ds); err != nil {
		t.Error(err)
	}
}

func TestProdOverlay(t *testing.T) {
	m, ds := load(t, "overlays/prod")
	if err := checkProd(m, ds); err != nil {
		t.Error(err)
	}
}

// checkDev: one replica each, images tagged dev, the Secret generated
// with exactly the documented keys, single-broker topics.
func checkDev(m *manifests, ds []*deployed) error {
	var errs []error
	for _, d := range ds {
		if !strings.HasSuffix(d.ctr.Image, ":dev") {
			errs = append(errs, fmt.Errorf("%s: image %s is not tagged dev", d.where(m), d.ctr.Image))
		}
		if r := d.dep.Spec.Replicas; r != nil && *r != 1 {
			errs = append(errs, fmt.Errorf("%s: %d replicas, want 1", d.where(m), *r))
		}
	}
	for _, so := range m.scaledObjects {
		if so.Spec.MaxReplicaCount == nil || *so.Spec.MaxReplicaCount != 1 {
			errs = append(errs, fmt.Errorf("%s: ScaledObject %s may scale past 1 replica", m.target, so.Metadata.Name))
		}
	}
	example, err := readEnvFile(secretExample)
	if err != nil {
		return err
	}
	var generated []string
	for name, s := range m.secrets {
		if !strings.HasPrefix(name, secretName+"-") {
			errs = append(errs, fmt.Errorf("%s: unexpected Secret %s", m.target, name))
		}
		generated = append(generated, sortedKeys(s.Data)...)
	}
	if want := sortedKeys(example); !slices.Equal(generated, want) {
		errs = append(errs, fmt.Errorf("%s: the generated Secret's keys %v differ from %s's %v", m.target, generated, secretExample, want))
	}
	return errors.Join(errs...)
}

// checkProd: pinned images, two replicas at least of every stateless
// service, spread over nodes, PDBs with minAvailable below the replica
// count, topics replicated 3 times, no Secret in the manifests.
func checkProd(m *manifests, ds []*deployed) error {
	var errs []error
	for _, d := range ds {
		_, tag, _ := strings.Cut(d.ctr.Image, ":")
		if tag == "" || tag == "latest" || tag == "dev" {
			errs = append(errs, fmt.Errorf("%s: image %s is not pinned", d.where(m), d.ctr.Image))
		}
		if d.svc.name == "cdc" {
			continue // a single replica by design (checkScaling)
		}
		least := int32(0)
		if r := d.dep.Spec.Replicas; r != nil {
			least = *r
		}
		for _, so := range m.scaledObjects {
			if so.Spec.ScaleTargetRef.Name == d.dep.Name && so.Spec.MinReplicaCount != nil {
				least = *so.Spec.MinReplicaCount
			}
		}
		if least < 2 {
			errs = append(errs, fmt.Errorf("%s: at least 2 replicas wanted, has %d", d.where(m), least))
		}
		if len(d.dep.Spec.Template.Spec.TopologySpreadConstraints) == 0 {
			errs = append(errs, fmt.Errorf("%s: no topologySpreadConstraints", d.where(m)))
		}
		pdb := findByName(m.pdbs, d.dep.Name, func(p *policyv1.PodDisruptionBudget) string { return p.Name })
		if pdb == nil || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 || int32(pdb.Spec.MinAvailable.IntValue()) >= least {
			errs = append(errs, fmt.Errorf("%s: PodDisruptionBudget %s needs minAvailable between 1 and the replica count %d", d.where(m), d.dep.Name, least))
		}
	}
	for _, t := range m.topics {
		if t.Spec.Replicas != 3 {
			errs = append(errs, fmt.Errorf("%s: KafkaTopic %s has %d replicas, want 3", m.target, t.Metadata.Name, t.Spec.Replicas))
		}
	}
	if len(m.secrets) > 0 {
		errs = append(errs, fmt.Errorf("%s: Secrets %v are rendered; production's is created outside", m.target, sortedKeys(m.secrets)))
	}
	return errors.Join(errs...)
}

// devstackDemo is where devstack embeds the demo content base/content copies.
const devstackDemo = "../../services/devstack/internal/demo"

func TestContentMatchesDevstack(t *testing.T) {
	for _, dir := range []string{"transform", "quality", "metrics"} {
		want := files(t, filepath.Join(devstackDemo, dir))
		got := files(t, filepath.Join("base", "content", dir))
		if len(want) == 0 {
			t.Fatalf("no devstack content in %s", filepath.Join(devstackDemo, dir))
		}
		for rel, w := range want {
			g, ok := got[rel]
			switch {
			case !ok:
				t.Errorf("base/content/%s/%s is missing (devstack has it)", dir, rel)
			case g != w:
				t.Errorf("base/content/%s/%s differs from devstack's copy; copy it again", dir, rel)
			}
		}
		for rel := range got {
			if _, ok := want[rel]; !ok {
				t.Errorf("base/content/%s/%s is not in devstack's demo content", dir, rel)
			}
		}
	}
}

// files reads every file under dir, keyed by its slash path relative to dir.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
