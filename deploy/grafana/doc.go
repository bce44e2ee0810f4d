// Package grafana holds riacho's Grafana provisioning and dashboards
// (deploy/grafana/provisioning, deploy/grafana/dashboards) and the tests
// that keep every dashboard query valid PromQL over metrics the services
// really export (see deploy/internal/promcat).
package grafana
