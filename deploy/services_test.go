package deploy

import (
	"testing"

	"github.com/riacho/riacho/libs/envconf"
	cdc "github.com/riacho/riacho/services/cdc/app"
	intake "github.com/riacho/riacho/services/intake/app"
	metrics "github.com/riacho/riacho/services/metrics/app"
	quality "github.com/riacho/riacho/services/quality/app"
	sink "github.com/riacho/riacho/services/sink/app"
	transform "github.com/riacho/riacho/services/transform/app"
)

func TestEveryServiceReadsVariables(t *testing.T) {
	for name, cfg := range map[string]any{
		"intake": intake.Config{}, "cdc": cdc.Config{}, "sink": sink.Config{},
		"transform": transform.Config{}, "quality": quality.Config{}, "metrics": metrics.Config{},
	} {
		if n := len(envconf.Variables(cfg)); n < 10 {
			t.Errorf("%s reads %d variables; its Config lost its env tags", name, n)
		}
	}
}
