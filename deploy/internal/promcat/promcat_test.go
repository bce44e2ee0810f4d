package promcat_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/metric"

	"github.com/riacho/riacho/deploy/internal/promcat"
	"github.com/riacho/riacho/libs/telemetry"
)

// repoRoot is the repository root seen from this package.
const repoRoot = "../../.."

func names(ms []promcat.Metric) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out
}

func TestScanDir(t *testing.T) {
	tests := []struct {
		dir     string
		want    []string
		wantErr []string // substrings of the error; empty means no error
	}{
		{dir: "ok", want: []string{
			"riacho_ok_desc_total", "riacho_ok_duration_seconds", "riacho_ok_events_total", "riacho_ok_failed_total",
			"riacho_ok_open", "riacho_ok_parts_total", "riacho_ok_sent_total", "riacho_ok_wait_seconds",
		}},
		{dir: "unresolved", wantErr: []string{"unresolved/metrics.go:10:", "cannot resolve"}},
		{dir: "nocall", wantErr: []string{"nocall/metrics.go:7:", "no call of counter"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			ms, err := promcat.ScanDir("testdata/" + tt.dir)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; found %v", names(ms))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(ms); !slices.Equal(got, tt.want) {
				t.Fatalf("names = %v\nwant    %v", got, tt.want)
			}
		})
	}
}

func TestSeriesOfKinds(t *testing.T) {
	c := promcat.New([]promcat.Metric{
		{Name: "h_seconds", Kind: promcat.Histogram},
		{Name: "s_seconds", Kind: promcat.Summary},
		{Name: "c_total", Kind: promcat.Counter},
	})
	want := []string{"c_total", "h_seconds_bucket", "h_seconds_count", "h_seconds_sum", "s_seconds", "s_seconds_count", "s_seconds_sum"}
	if got := c.Series(); !slices.Equal(got, want) {
		t.Fatalf("Series = %v, want %v", got, want)
	}
	if err := c.Check("panel 1", []string{"h_seconds"}); err == nil || !strings.Contains(err.Error(), "panel 1: metric h_seconds") {
		t.Fatalf("a histogram's bare name passed the check: %v", err)
	}
}

// TestBuildRepo proves the catalog of the real repository holds a metric of
// every definition form the services use, and none from test-only code.
func TestBuildRepo(t *testing.T) {
	c, err := promcat.Build(context.Background(), repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{
		"riacho_intake_request_duration_seconds_bucket", // Namespace/Subsystem/Name
		"riacho_sink_lag_records",                       // literal Name
		"riacho_cdc_pg_lag_bytes",                       // GaugeFunc
		"riacho_cdc_poll_errors_total",                  // helper closure parameter
		"riacho_quality_alerts_failed_total",            // concatenation with a parameter
		"riacho_quality_freshness_breached",             // NewDesc
		"riacho_warehouse_loader_lag_records",           // function-local constants
		"riacho_kafka_produce_records_total",            // kprom, at run time
		"process_cpu_seconds_total",                     // telemetry registry
		"go_goroutines",
	} {
		if _, ok := c.Lookup(n); !ok {
			t.Errorf("catalog lacks %s", n)
		}
	}
	valid := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	for _, s := range c.Series() {
		if strings.HasPrefix(s, "riacho_registry_") {
			t.Errorf("%s comes from the embedded registry, which no service binary links", s)
		}
		if !valid.MatchString(s) {
			t.Errorf("%s is not a valid Prometheus metric name", s)
		}
	}
}

// TestOTelNameMatchesExporter scrapes /metrics of libs/telemetry's real
// wiring and proves OTelName predicts the names its exporter gives
// OpenTelemetry instruments.
func TestOTelNameMatchesExporter(t *testing.T) {
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, "promcat-test", "dev", telemetry.Config{
		LogLevel: "error", LogFormat: "json", TraceSampleRatio: 1, LogOutput: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(ctx) })
	m := tel.MeterProvider.Meter("promcat")
	h, err := m.Float64Histogram("riacho.test.wait", metric.WithUnit("s"))
	if err != nil {
		t.Fatal(err)
	}
	h.Record(ctx, 0.25)
	cnt, err := m.Int64Counter("riacho.test.events", metric.WithUnit("{event}"))
	if err != nil {
		t.Fatal(err)
	}
	cnt.Add(ctx, 3)
	ud, err := m.Int64UpDownCounter("riacho.test.buffer", metric.WithUnit("By"))
	if err != nil {
		t.Fatal(err)
	}
	ud.Add(ctx, 10)

	srv := httptest.NewServer(telemetry.NewOpsMux(tel.Registry, nil))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, unit string
		typ        otlptranslator.MetricType
	}{
		{"riacho.test.wait", "s", otlptranslator.MetricTypeHistogram},
		{"riacho.test.events", "{event}", otlptranslator.MetricTypeMonotonicCounter},
		{"riacho.test.buffer", "By", otlptranslator.MetricTypeNonMonotonicCounter},
	} {
		want, err := promcat.OTelName(tc.name, tc.unit, tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := fams[want]; !ok {
			t.Errorf("OTelName(%s, %s) = %s, not on /metrics (%v)", tc.name, tc.unit, want, slices.Sorted(func(yield func(string) bool) {
				for k := range fams {
					if strings.HasPrefix(k, "riacho") && !yield(k) {
						return
					}
				}
			}))
		}
	}
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr    string
		want    []string
		wantErr string
	}{
		{expr: `sum by (source) (rate(riacho_intake_requests_total{code=~"5.."}[5m])) / sum(rate(riacho_intake_requests_total[5m]))`,
			want: []string{"riacho_intake_requests_total"}},
		{expr: `histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) > on() b`, want: []string{"a_bucket", "b"}},
		{expr: `{__name__="x_total"}`, want: []string{"x_total"}},
		{expr: `{__name__=~"x.*"}`, wantErr: "no fixed metric name"},
		{expr: `sum(rate(x[5m]`, wantErr: "parse"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := promcat.MetricNames(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("MetricNames = %v, want %v", got, tt.want)
			}
		})
	}
}
