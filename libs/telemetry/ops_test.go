package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/riacho/riacho/libs/telemetry"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestMetricsEndpoint(t *testing.T) {
	tel, err := telemetry.Setup(context.Background(), "sink", "v0", telemetry.Config{TraceSampleRatio: 1, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	counter, err := tel.MeterProvider.Meter("riacho/test").Int64Counter("riacho_test_records")
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(context.Background(), 7)

	srv := httptest.NewServer(telemetry.NewOpsMux(tel.Registry, nil))
	t.Cleanup(srv.Close)
	code, body := get(t, srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics status %d", code)
	}
	for _, want := range []string{
		"riacho_test_records_total{",
		"go_goroutines ",
		"process_start_time_seconds",
		`target_info{`,
		`service_name="sink"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(body, "} 7\n") {
		t.Errorf("counter value 7 not exposed:\n%s", grepLines(body, "riacho_test_records"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHealthAndReady(t *testing.T) {
	notReady := errors.New("kafka not connected")
	tests := []struct {
		name     string
		ready    func() error
		path     string
		wantCode int
		wantBody string
	}{
		{"healthz", func() error { return notReady }, "/healthz", http.StatusOK, "ok"},
		{"readyz not ready", func() error { return notReady }, "/readyz", http.StatusServiceUnavailable, "kafka not connected"},
		{"readyz ready", func() error { return nil }, "/readyz", http.StatusOK, "ready"},
		{"readyz nil func", nil, "/readyz", http.StatusOK, "ready"},
		{"unknown path", nil, "/nope", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(telemetry.NewOpsMux(nil, tt.ready))
			defer srv.Close()
			code, body := get(t, srv.URL+tt.path)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("GET %s = %d %q, want %d containing %q", tt.path, code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := httptest.NewServer(telemetry.NewOpsMux(nil, nil))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz = %d, want 405", resp.StatusCode)
	}
}
