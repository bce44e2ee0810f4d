package alert

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sleeps records the waits asked of Options.Sleep without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// request is what a webhook received.
type request struct {
	Method, ContentType, Body string
}

// hook is a loopback webhook that records requests and answers with the
// next response of its script (200 "ok" when the script is exhausted).
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	script []func(w http.ResponseWriter)
}

func newHook(t *testing.T, script ...func(w http.ResponseWriter)) *hook {
	t.Helper()
	h := &hook{script: script}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, request{r.Method, r.Header.Get("Content-Type"), string(b)})
		var next func(http.ResponseWriter)
		if len(h.script) > 0 {
			next, h.script = h.script[0], h.script[1:]
		}
		h.mu.Unlock()
		if next != nil {
			next(w)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) requests() []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]request(nil), h.reqs...)
}

// count is the number of requests received.
func (h *hook) count() int { return len(h.requests()) }

// status answers with code, an optional Retry-After and a body.
func status(code int, retryAfter string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, http.StatusText(code))
	}
}

// env is a notifier under test with its clock, registry and recorded sleeps.
type env struct {
	n      *Notifier
	clock  *fakeClock
	reg    *prometheus.Registry
	sleeps *sleeps
}

func newEnv(t *testing.T, routes []Route, opts Options) *env {
	t.Helper()
	e := &env{clock: newFakeClock(), reg: prometheus.NewRegistry(), sleeps: &sleeps{}}
	opts.Now, opts.Sleep, opts.Registerer = e.clock.Now, e.sleeps.Sleep, e.reg
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n, err := New(routes, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.n = n
	return e
}

// run starts Run; the returned function stops it, waits for the drain and
// returns Run's error.
func (e *env) run(t *testing.T) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.n.Run(ctx) }()
	stopped := false
	var err error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// counter reads one of the route-labelled counters.
func (e *env) counter(name, route string) float64 {
	vecs := map[string]*prometheus.CounterVec{"sent": e.n.m.sent, "failed": e.n.m.failed,
		"deduplicated": e.n.m.deduplicated, "rate_limited": e.n.m.rateLimited, "retries": e.n.m.retries}
	return testutil.ToFloat64(vecs[name].WithLabelValues(route))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
