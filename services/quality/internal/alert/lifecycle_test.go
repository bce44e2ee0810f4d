package alert

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestLifecycle(t *testing.T) {
	h := newHook(t)
	e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: h.URL}}, Options{})
	stop := e.run(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.n.Send(ctx, sample); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context = %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := e.n.Send(context.Background(), sample); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Run = %v, want ErrClosed", err)
	}
	if err := e.n.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Run = %v, want ErrClosed", err)
	}
}

func TestNewRejects(t *testing.T) {
	good := Route{Name: "ok", Kind: ServiceSlack, URL: "https://hooks.slack.com/services/T/B/X"}
	tests := []struct {
		name   string
		routes []Route
		want   []string
	}{
		{"none", nil, []string{"no routes"}},
		{"no name", []Route{{Kind: ServiceSlack, URL: good.URL}}, []string{"route (unnamed)", "name is empty"}},
		{"twice", []Route{good, good}, []string{"route ok", "name used twice"}},
		{"kind", []Route{{Name: "x", Kind: "discord", URL: good.URL}}, []string{"route x", `kind "discord"`}},
		{"url", []Route{{Name: "x", Kind: ServiceTeams, URL: "hooks.slack.com/x"}}, []string{"route x", "url is not"}},
		{"severity", []Route{{Name: "x", Kind: ServiceSlack, URL: good.URL, Severities: []string{"high"}}}, []string{`severity "high"`}},
		{"alert kind", []Route{{Name: "x", Kind: ServiceSlack, URL: good.URL, Kinds: []string{"billing"}}}, []string{`alert kind "billing"`}},
		{"every problem", []Route{{Name: "x"}, {Name: "y", Kind: ServiceSlack}}, []string{"route x", "route y", `kind ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.routes, Options{})
			if !errors.Is(err, ErrInvalidRoute) {
				t.Fatalf("New = %v, want ErrInvalidRoute", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	routes := []Route{{Name: "r", Kind: ServiceSlack, URL: "http://127.0.0.1:1/x"}}
	if _, err := New(routes, Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(routes, Options{Registerer: reg}); err == nil || !strings.Contains(err.Error(), "one notifier per registry") {
		t.Fatalf("second New on one registry = %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := []string{"riacho_quality_alerts_deduplicated_total", "riacho_quality_alerts_failed_total",
		"riacho_quality_alerts_rate_limited_total", "riacho_quality_alerts_retries_total", "riacho_quality_alerts_sent_total"}
	if !slices.Equal(names, want) {
		t.Errorf("registered %q, want %q", names, want)
	}
}
