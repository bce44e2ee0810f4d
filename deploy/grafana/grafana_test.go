package grafana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/riacho/riacho/deploy/internal/promcat"
)

// schemaVersion is the dashboard schema of the Grafana the stack runs
// (grafana/grafana:12.0.x in docker-compose.yml).
const schemaVersion = 41

// dashboard is the part of a dashboard's JSON the checks read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	file          string
}

// panel is one panel (a row holds its collapsed panels in Panels).
type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// datasource is a panel's or target's data source reference.
type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// all returns the panels of d, rows' nested panels included.
func (d *dashboard) all() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// env is what the checks compare dashboards with.
type env struct {
	datasourceUID string
	catalog       *promcat.Catalog
}

// decode reads one dashboard.
func decode(file string, data []byte) (*dashboard, error) {
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	d.file = file
	return &d, nil
}

// checkHeader: uid, title and the current schema version.
func checkHeader(d *dashboard, _ env) []error {
	var errs []error
	if d.UID == "" || d.Title == "" {
		errs = append(errs, fmt.Errorf("%s: uid and title must be set", d.file))
	}
	if d.SchemaVersion != schemaVersion {
		errs = append(errs, fmt.Errorf("%s: schemaVersion %d, want %d", d.file, d.SchemaVersion, schemaVersion))
	}
	return errs
}

// checkPanelIDs: panel ids are set and unique within the dashboard.
func checkPanelIDs(d *dashboard, _ env) []error {
	var errs []error
	seen := map[int]string{}
	for _, p := range d.all() {
		if prev, dup := seen[p.ID]; dup || p.ID == 0 {
			errs = append(errs, fmt.Errorf("%s: panel %q has id %d, also used by %q (or zero)", d.file, p.Title, p.ID, prev))
		}
		seen[p.ID] = p.Title
	}
	return errs
}

// checkDatasources: every panel and target with a query reads the
// provisioned Prometheus by its uid.
func checkDatasources(d *dashboard, e env) []error {
	var errs []error
	for _, p := range d.all() {
		if p.Type == "row" {
			continue
		}
		refs := []*datasource{p.Datasource}
		for _, t := range p.Targets {
			refs = append(refs, t.Datasource)
		}
		for _, r := range refs {
			if r == nil || r.UID != e.datasourceUID {
				errs = append(errs, fmt.Errorf("%s: panel %q does not name data source uid %q", d.file, p.Title, e.datasourceUID))
				break
			}
		}
	}
	return errs
}

// checkQueries: every target expression parses and reads only metrics a
// riacho service exports.
func checkQueries(d *dashboard, e env) []error {
	var errs []error
	for _, p := range d.all() {
		if p.Type != "row" && len(p.Targets) == 0 {
			errs = append(errs, fmt.Errorf("%s: panel %q has no query", d.file, p.Title))
		}
		for _, t := range p.Targets {
			names, err := promcat.MetricNames(t.Expr)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: panel %q: %w", d.file, p.Title, err))
				continue
			}
			if err := e.catalog.Check(fmt.Sprintf("%s: panel %q", d.file, p.Title), names); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// checks are the rules every dashboard keeps.
var checks = []struct {
	name string
	fn   func(*dashboard, env) []error
}{
	{"header", checkHeader},
	{"panel ids", checkPanelIDs},
	{"data sources", checkDatasources},
	{"queries", checkQueries},
}

// loadEnv reads the provisioned data source uid and builds the catalog.
func loadEnv(t *testing.T) env {
	t.Helper()
	b, err := os.ReadFile("provisioning/datasources/prometheus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(b, &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Datasources) != 1 || prov.Datasources[0].Type != "prometheus" || prov.Datasources[0].UID == "" {
		t.Fatalf("provisioning/datasources/prometheus.yaml: want one prometheus data source with a uid, got %+v", prov.Datasources)
	}
	cat, err := promcat.Build(context.Background(), "../..")
	if err != nil {
		t.Fatal(err)
	}
	return env{datasourceUID: prov.Datasources[0].UID, catalog: cat}
}

// readDashboards decodes every dashboard file.
func readDashboards(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

func TestDashboards(t *testing.T) {
	e := loadEnv(t)
	uids := map[string]string{}
	for file, data := range readDashboards(t) {
		d, err := decode(file, data)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share uid %s", prev, file, d.UID)
		}
		uids[d.UID] = file
		for _, c := range checks {
			t.Run(file+"/"+c.name, func(t *testing.T) {
				for _, err := range c.fn(d, e) {
					t.Error(err)
				}
			})
		}
	}
}

// TestSeedMonitoringCovered proves the dashboards show what the platform
// design's monitoring section and SLA table ask for.
func TestSeedMonitoringCovered(t *testing.T) {
	var titles []string
	for file, data := range readDashboards(t) {
		d, err := decode(file, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.all() {
			titles = append(titles, p.Title)
		}
	}
	for _, want := range []string{
		"Pipeline latency", "Job success rate", "Resource use", "Query response time", "Consumer lag", "CDC replication",
		"CRM Ploomes — age (SLA 15 min)", "ERP SAP B1 — age (SLA 30 min)", "WhatsApp API — age (SLA 5 min)", "Ads platforms — age (SLA 60 min)",
		"CRM Ploomes — within SLA, 7 days (target 99.5%)", "ERP SAP B1 — within SLA, 7 days (target 99.9%)",
		"WhatsApp API — within SLA, 7 days (target 99.0%)", "Ads platforms — within SLA, 7 days (target 95.0%)",
	} {
		if !slices.Contains(titles, want) {
			t.Errorf("no panel or row titled %q", want)
		}
	}
}

// TestChecksCatchBreakage proves every check fails on a broken dashboard.
func TestChecksCatchBreakage(t *testing.T) {
	e := env{datasourceUID: "riacho-prometheus", catalog: promcat.New([]promcat.Metric{
		{Name: "riacho_x_total", Kind: promcat.Counter},
	})}
	good := `{"uid":"x","title":"X","schemaVersion":41,"panels":[
	  {"id":1,"type":"row","title":"r","panels":[]},
	  {"id":2,"type":"timeseries","title":"p","datasource":{"type":"prometheus","uid":"riacho-prometheus"},
	   "targets":[{"expr":"sum(rate(riacho_x_total[5m]))","datasource":{"type":"prometheus","uid":"riacho-prometheus"}}]}]}`
	tests := []struct {
		name     string
		old, new string
		check    func(*dashboard, env) []error
		want     string
	}{
		{"old schema", `"schemaVersion":41`, `"schemaVersion":36`, checkHeader, "schemaVersion 36"},
		{"no uid", `"uid":"x"`, `"uid":""`, checkHeader, "uid and title"},
		{"duplicate id", `"id":2`, `"id":1`, checkPanelIDs, `panel "p" has id 1`},
		{"other data source", `"datasource":{"type":"prometheus","uid":"riacho-prometheus"},`, `"datasource":{"type":"prometheus","uid":"other"},`, checkDatasources, `panel "p" does not name`},
		{"unparsable query", `rate(riacho_x_total[5m]))`, `rate(riacho_x_total[5m])`, checkQueries, "parse"},
		{"unknown metric", `riacho_x_total[5m]`, `riacho_y_total[5m]`, checkQueries, "metric riacho_y_total is not exported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decode("good.json", []byte(good))
			if err != nil {
				t.Fatal(err)
			}
			if errs := tt.check(d, e); len(errs) > 0 {
				t.Fatalf("the good dashboard fails: %v", errors.Join(errs...))
			}
			if !strings.Contains(good, tt.old) {
				t.Fatalf("mutation target %q not found", tt.old)
			}
			d, err = decode("bad.json", []byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err != nil {
				t.Fatal(err)
			}
			err = errors.Join(tt.check(d, e)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
