package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestServe(t *testing.T) {
	cluster := newCluster(t)
	r, err := New(cluster.ListenAddrs(), testConfig(), testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Serve(ctx, ln) }()

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &apiClient{t: t, base: "http://" + ln.Addr().String(), hc: &http.Client{Transport: tr, Timeout: 5 * time.Second}}
	deadline := time.Now().Add(15 * time.Second)
	for !r.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("Serve did not start the registry")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.register("served", `"int"`)
	// Serve started the registry, so Start now refuses.
	if err := r.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start = %v, want ErrStarted", err)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestRun(t *testing.T) {
	cluster := newCluster(t)
	cfg := testConfig()
	cfg.Addr = "127.0.0.1:0"
	r := newRegistry(t, cluster.ListenAddrs(), cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	cfg.Addr = "256.0.0.1:1"
	r2, err := New(cluster.ListenAddrs(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if err := r2.Run(context.Background()); err == nil {
		t.Fatal("Run on an unusable address succeeded")
	}
}

func TestStartAfterClose(t *testing.T) {
	cluster := newCluster(t)
	r, err := New(cluster.ListenAddrs(), testConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Close()
	if err := r.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestStartTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.StartTimeout = 300 * time.Millisecond
	// Nothing listens on this port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, err := New([]string{addr}, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	began := time.Now()
	if err := r.Start(context.Background()); err == nil {
		t.Fatal("Start without a broker succeeded")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("Start took %v despite a %v timeout", d, cfg.StartTimeout)
	}
}

func TestMetrics(t *testing.T) {
	cluster := newCluster(t)
	prom := prometheus.NewRegistry()
	r := newRegistry(t, cluster.ListenAddrs(), testConfig(), prom)
	c := serve(t, r)
	c.register("m", `"int"`)
	c.register("m", `"int"`) // no new version
	c.register("m2", `"long"`)
	c.fail(http.MethodGet, "/subjects/none/versions", nil, 404, CodeSubjectNotFound)
	c.fail(http.MethodGet, "/nowhere", nil, 404, codeNotFound)

	if got := testutil.ToFloat64(r.metrics.registered); got != 2 {
		t.Errorf("schemas registered = %v, want 2", got)
	}
	for _, tt := range []struct {
		route, method, code string
		want                float64
	}{
		{"/subjects/{subject}/versions", "POST", "200", 3},
		{"/subjects/{subject}/versions", "GET", "404", 1},
		{"unmatched", "GET", "404", 1},
	} {
		if got := testutil.ToFloat64(r.metrics.requests.WithLabelValues(tt.route, tt.method, tt.code)); got != tt.want {
			t.Errorf("requests{%s,%s,%s} = %v, want %v", tt.route, tt.method, tt.code, got, tt.want)
		}
	}
	if got := testutil.ToFloat64(r.metrics.ready); got != 1 {
		t.Errorf("ready = %v", got)
	}
	n, err := testutil.GatherAndCount(prom, "riacho_registry_http_requests_total", "riacho_registry_schemas_registered_total")
	if err != nil || n == 0 {
		t.Fatalf("gathered %d series, %v", n, err)
	}
	// A second registry on the same registerer fails while the first is open.
	if _, err := New(cluster.ListenAddrs(), testConfig(), nil, prom); err == nil {
		t.Fatal("duplicate metrics registration succeeded")
	}
}

func TestCloseAbortsStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig()
	cfg.StartTimeout = time.Minute
	r, err := New([]string{addr}, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.Start(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	r.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Start succeeded without a broker")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not abort Start")
	}
}
