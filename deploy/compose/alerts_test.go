package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/riacho/riacho/deploy/internal/promcat"
)

// rule is an alert rule in a form both files decode to.
type rule struct {
	Group, Alert, Expr, For string
	Labels, Annotations     map[string]string
}

// rules are both rule files, decoded.
type rules struct {
	compose, k8s []rule
	docs         string // docs/observability.md, whose headings are the runbooks
	catalog      *promcat.Catalog
}

// parseComposeRules decodes a Prometheus rule file strictly and validates it
// as Prometheus does.
func parseComposeRules(data []byte) ([]rule, error) {
	rgs, errs := rulefmt.Parse(data, false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
	if len(errs) > 0 {
		return nil, fmt.Errorf("deploy/compose/alerts.yml: %w", errors.Join(errs...))
	}
	var out []rule
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			f := ""
			if r.For != 0 {
				f = r.For.String()
			}
			out = append(out, rule{Group: g.Name, Alert: r.Alert, Expr: r.Expr, For: f, Labels: r.Labels, Annotations: r.Annotations})
		}
	}
	return out, nil
}

// parseK8sRules decodes a PrometheusRule strictly.
func parseK8sRules(data []byte) ([]rule, error) {
	var pr monitoringv1.PrometheusRule
	if err := sigsyaml.UnmarshalStrict(data, &pr); err != nil {
		return nil, fmt.Errorf("deploy/k8s/base/monitoring/prometheusrule.yaml: %w", err)
	}
	if pr.Kind != "PrometheusRule" || pr.APIVersion != "monitoring.coreos.com/v1" {
		return nil, fmt.Errorf("prometheusrule.yaml is %s %s, want monitoring.coreos.com/v1 PrometheusRule", pr.APIVersion, pr.Kind)
	}
	var out []rule
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			f := ""
			if r.For != nil {
				f = string(*r.For)
			}
			out = append(out, rule{Group: g.Name, Alert: r.Alert, Expr: r.Expr.String(), For: f, Labels: r.Labels, Annotations: r.Annotations})
		}
	}
	return out, nil
}

// loadRules reads both rule files and the docs, with optional edits.
func loadRules(t *testing.T, cat *promcat.Catalog, edit func(compose, k8s *string)) (*rules, error) {
	t.Helper()
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c, k := read("deploy/compose/alerts.yml"), read("deploy/k8s/base/monitoring/prometheusrule.yaml")
	if edit != nil {
		edit(&c, &k)
	}
	cr, err := parseComposeRules([]byte(c))
	if err != nil {
		return nil, err
	}
	kr, err := parseK8sRules([]byte(k))
	if err != nil {
		return nil, err
	}
	return &rules{compose: cr, k8s: kr, docs: read("docs/observability.md"), catalog: cat}, nil
}

// checkSameGroups: the PrometheusRule holds exactly the compose groups.
func checkSameGroups(r *rules) []error {
	if len(r.compose) != len(r.k8s) {
		return []error{fmt.Errorf("alerts.yml has %d rules, prometheusrule.yaml %d", len(r.compose), len(r.k8s))}
	}
	var errs []error
	for i := range r.compose {
		if !reflect.DeepEqual(r.compose[i], r.k8s[i]) {
			errs = append(errs, fmt.Errorf("rule %d differs:\n  alerts.yml:          %+v\n  prometheusrule.yaml: %+v", i, r.compose[i], r.k8s[i]))
		}
	}
	return errs
}

// checkRuleMetrics: every expression parses and reads cataloged metrics.
func checkRuleMetrics(r *rules) []error {
	var errs []error
	for _, ru := range r.compose {
		names, err := promcat.MetricNames(ru.Expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("alert %s: %w", ru.Alert, err))
			continue
		}
		if err := r.catalog.Check("alert "+ru.Alert, names); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// heading matches a Markdown heading.
var heading = regexp.MustCompile(`(?m)^#+\s+(.+)$`)

// anchors returns the GitHub anchors of the docs' headings.
func anchors(doc string) []string {
	var out []string
	for _, m := range heading.FindAllStringSubmatch(doc, -1) {
		slug := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				return r
			case r == ' ':
				return '-'
			}
			return -1
		}, strings.ToLower(strings.TrimSpace(m[1])))
		out = append(out, slug)
	}
	return out
}

// checkRuleMetadata: every alert has a severity, a route, a summary and a
// runbook that is a heading of docs/observability.md.
func checkRuleMetadata(r *rules) []error {
	var errs []error
	docAnchors := anchors(r.docs)
	seen := map[string]bool{}
	for _, ru := range r.compose {
		if ru.Alert == "" {
			errs = append(errs, fmt.Errorf("group %s: a rule without an alert name", ru.Group))
		}
		if seen[ru.Alert] {
			errs = append(errs, fmt.Errorf("alert %s is defined twice", ru.Alert))
		}
		seen[ru.Alert] = true
		if !slices.Contains([]string{"critical", "warning", "info"}, ru.Labels["severity"]) {
			errs = append(errs, fmt.Errorf("alert %s: severity %q is not critical, warning or info", ru.Alert, ru.Labels["severity"]))
		}
		if !slices.Contains([]string{"slack-critical", "stewards", "teams-devops"}, ru.Labels["route"]) {
			errs = append(errs, fmt.Errorf("alert %s: route %q is not slack-critical, stewards or teams-devops", ru.Alert, ru.Labels["route"]))
		}
		if ru.Annotations["summary"] == "" {
			errs = append(errs, fmt.Errorf("alert %s has no summary annotation", ru.Alert))
		}
		_, anchor, ok := strings.Cut(ru.Annotations["runbook_url"], "docs/observability.md#")
		if !ok || !slices.Contains(docAnchors, anchor) {
			errs = append(errs, fmt.Errorf("alert %s: runbook_url %q is not a heading of docs/observability.md", ru.Alert, ru.Annotations["runbook_url"]))
		}
	}
	return errs
}

// checkRuleCoverage: the SLA table, lag, CDC replication, dead letters,
// quarantine and every service's errors each have an alert.
func checkRuleCoverage(r *rules) []error {
	uses := func(metric string) bool {
		return slices.ContainsFunc(r.compose, func(ru rule) bool { return strings.Contains(ru.Expr, metric) })
	}
	var errs []error
	for _, sel := range []string{`{source="ploomes"}`, `{source=~"sapb1|sap_b1"}`, `{source="whatsapp"}`, `{source=~"ads|meta|meta_ads|google_ads"}`} {
		for _, m := range []string{"riacho_quality_freshness_seconds", "avg_over_time(riacho_quality_freshness_breached"} {
			if !uses(m + sel) {
				errs = append(errs, fmt.Errorf("no alert reads %s%s (a row of the SLA table)", m, sel))
			}
		}
	}
	for _, m := range []string{
		"riacho_sink_lag_records", "riacho_warehouse_loader_lag_records", "riacho_cdc_pg_lag_bytes", "riacho_cdc_pg_lag_seconds",
		"riacho_sink_dead_letters_total", "riacho_cdc_dead_letters_total", "riacho_transform_dead_letters_total",
		"riacho_quality_records_quarantined_total",
		"riacho_intake_", "riacho_cdc_", "riacho_sink_", "riacho_transform_", "riacho_quality_", "riacho_metrics_",
	} {
		if !uses(m) {
			errs = append(errs, fmt.Errorf("no alert reads %s", m))
		}
	}
	return errs
}

var ruleChecks = []struct {
	name string
	fn   func(*rules) []error
}{
	{"same groups in compose and Kubernetes", checkSameGroups},
	{"expressions use exported metrics", checkRuleMetrics},
	{"severity, route, summary and runbook", checkRuleMetadata},
	{"SLA table and failure modes covered", checkRuleCoverage},
}

func buildCatalog(t *testing.T) *promcat.Catalog {
	t.Helper()
	cat, err := promcat.Build(context.Background(), repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestAlertRules(t *testing.T) {
	r, err := loadRules(t, buildCatalog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ruleChecks {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range c.fn(r) {
				t.Error(err)
			}
		})
	}
}

// TestAlertChecksCatchBreakage proves each rule check fails on a broken file.
func TestAlertChecksCatchBreakage(t *testing.T) {
	cat := buildCatalog(t)
	both := func(old, new string) func(c, k *string) {
		return func(c, k *string) {
			*c = strings.Replace(*c, old, new, 1)
			*k = strings.Replace(*k, old, new, 1)
		}
	}
	tests := []struct {
		name  string
		edit  func(c, k *string)
		check func(*rules) []error
		want  string
	}{
		{"Kubernetes copy drifted", func(_, k *string) { *k = strings.Replace(*k, "> 100000", "> 200000", 1) },
			checkSameGroups, "differs"},
		{"unknown metric", both("riacho_sink_lag_records) > 100000", "riacho_sink_lag) > 100000"),
			checkRuleMetrics, "alert RiachoSinkConsumerLagHigh: metric riacho_sink_lag is not exported"},
		{"no severity", both("labels: {severity: warning, route: teams-devops}", "labels: {route: teams-devops}"),
			checkRuleMetadata, `severity ""`},
		{"runbook not in the docs", both("observability.md#consumer-lag", "observability.md#lag"),
			checkRuleMetadata, "is not a heading of docs/observability.md"},
		{"SLA row missing", both(`riacho_quality_freshness_seconds{source="whatsapp"}`, `riacho_quality_freshness_seconds{source="wa"}`),
			checkRuleCoverage, "whatsapp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := loadRules(t, cat, tt.edit)
			if err != nil {
				t.Fatal(err)
			}
			err = errors.Join(tt.check(r)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestAlertFileRejectsBadExpression proves an expression Prometheus would
// refuse fails the load, naming the rule file.
func TestAlertFileRejectsBadExpression(t *testing.T) {
	_, err := loadRules(t, nil, func(c, _ *string) {
		*c = strings.Replace(*c, "sum by (topic) (riacho_sink_lag_records) > 100000", "sum by (topic) (riacho_sink_lag_records > 100000", 1)
	})
	if err == nil || !strings.Contains(err.Error(), "alerts.yml") {
		t.Fatalf("error = %v, want a parse error naming alerts.yml", err)
	}
}
