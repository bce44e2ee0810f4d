package gate

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// metrics are the gate's Prometheus collectors.
type metrics struct {
	curated, quarantined *prometheus.CounterVec
	evaluated, failed    *prometheus.CounterVec
	unexpected           *prometheus.GaugeVec
	suiteSuccess         *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "riacho", Subsystem: "quality", Name: name, Help: help}
	}
	m := &metrics{
		curated:     prometheus.NewCounterVec(opts("records_curated_total", "Records that met every row-level expectation, by model."), []string{"model"}),
		quarantined: prometheus.NewCounterVec(opts("records_quarantined_total", "Records that failed a row-level expectation, by model."), []string{"model"}),
		evaluated:   prometheus.NewCounterVec(opts("expectations_evaluated_total", "Window evaluations of an expectation, by suite and expectation."), []string{"model", "suite", "expectation", "column"}),
		failed:      prometheus.NewCounterVec(opts("expectations_failed_total", "Window evaluations that failed, by suite and expectation."), []string{"model", "suite", "expectation", "column"}),
		unexpected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "riacho", Subsystem: "quality", Name: "unexpected_percent",
			Help: "unexpected_percent of an expectation's newest window."}, []string{"model", "suite", "expectation", "column"}),
		suiteSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "riacho", Subsystem: "quality", Name: "suite_success",
			Help: "1 when a suite's newest window passed, else 0."}, []string{"model", "suite"}),
	}
	for _, c := range []prometheus.Collector{m.curated, m.quarantined, m.evaluated, m.failed, m.unexpected, m.suiteSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe records a window's suite result.
func (m *metrics) observe(model, suiteName string, r expect.SuiteResult) {
	ok := 0.0
	if r.Success {
		ok = 1
	}
	m.suiteSuccess.WithLabelValues(model, suiteName).Set(ok)
	for _, res := range r.Results {
		c := res.ExpectationConfig
		col, _ := c.Kwargs["column"].(string)
		l := []string{model, suiteName, c.Type, col}
		m.evaluated.WithLabelValues(l...).Inc()
		if !res.Success {
			m.failed.WithLabelValues(l...).Inc()
		}
		if p := res.Result.UnexpectedPercent; p != nil {
			m.unexpected.WithLabelValues(l...).Set(*p)
		}
	}
}
