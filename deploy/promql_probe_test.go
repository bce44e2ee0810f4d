package deploy

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	_ "github.com/compose-spec/compose-go/v2/loader"
	_ "sigs.k8s.io/kustomize/api/krusty"
	_ "k8s.io/api/apps/v1"
	_ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

func TestPromQLProbe(t *testing.T) {
	if _, err := parser.NewParser(parser.Options{}).ParseExpr(`sum(rate(x[5m])) > 1`); err != nil {
		t.Fatal(err)
	}
}
