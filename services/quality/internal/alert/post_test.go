package alert

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRetries(t *testing.T) {
	s := time.Second
	abort := func(http.ResponseWriter) { panic(http.ErrAbortHandler) } // connection dropped
	tests := []struct {
		name      string
		opts      Options
		script    []func(http.ResponseWriter)
		dateAfter time.Duration // when > 0, a 429 with an HTTP-date Retry-After this far ahead
		requests  int
		waits     []time.Duration
		sent      float64
	}{
		{"200 first time", Options{}, nil, 0, 1, nil, 1},
		{"429 retry-after seconds", Options{},
			[]func(http.ResponseWriter){status(429, "7"), status(429, "7")}, 0, 3, []time.Duration{7 * s, 7 * s}, 1},
		{"429 retry-after zero", Options{}, []func(http.ResponseWriter){status(429, "0")}, 0, 2, []time.Duration{0}, 1},
		{"429 retry-after date", Options{}, nil, 30 * s, 2, []time.Duration{30 * s}, 1},
		{"429 without retry-after backs off", Options{}, []func(http.ResponseWriter){status(429, "")}, 0, 2, []time.Duration{s}, 1},
		{"5xx exponential backoff", Options{},
			[]func(http.ResponseWriter){status(503, ""), status(502, ""), status(500, "")}, 0, 4, []time.Duration{s, 2 * s, 4 * s}, 1},
		{"503 with retry-after", Options{}, []func(http.ResponseWriter){status(503, "12")}, 0, 2, []time.Duration{12 * s}, 1},
		{"backoff capped", Options{MaxBackoff: 3 * s},
			[]func(http.ResponseWriter){status(500, ""), status(500, ""), status(500, ""), status(500, "")}, 0, 5, []time.Duration{s, 2 * s, 3 * s, 3 * s}, 1},
		{"network error retried", Options{}, []func(http.ResponseWriter){abort}, 0, 2, []time.Duration{s}, 1},
		{"attempts exhausted", Options{MaxAttempts: 3},
			[]func(http.ResponseWriter){status(500, ""), status(500, ""), status(500, "")}, 0, 3, []time.Duration{s, 2 * s}, 0},
		{"400 not retried", Options{}, []func(http.ResponseWriter){status(400, "")}, 0, 1, nil, 0},
		{"404 not retried", Options{}, []func(http.ResponseWriter){status(404, "")}, 0, 1, nil, 0},
		{"retry-after beyond MaxRetryWait", Options{}, []func(http.ResponseWriter){status(429, "3600")}, 0, 1, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHook(t, tt.script...)
			e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: h.URL}}, tt.opts)
			if tt.dateAfter > 0 {
				h.script = append(h.script, status(429, e.clock.Now().Add(tt.dateAfter).Format(http.TimeFormat)))
			}
			if err := e.n.Send(context.Background(), sample); err != nil {
				t.Fatal(err)
			}
			if err := e.run(t)(); err != nil {
				t.Fatal(err)
			}
			reqs := h.requests()
			if len(reqs) != tt.requests {
				t.Errorf("webhook got %d requests, want %d", len(reqs), tt.requests)
			}
			for _, r := range reqs[1:] {
				if r.Body != reqs[0].Body {
					t.Errorf("retry body differs:\n%s\n%s", r.Body, reqs[0].Body)
				}
			}
			if got := e.sleeps.waits(); !slices.Equal(got, tt.waits) {
				t.Errorf("waits %v, want %v", got, tt.waits)
			}
			if got := e.counter("retries", "r"); got != float64(len(tt.waits)) {
				t.Errorf("retries = %v, want %d", got, len(tt.waits))
			}
			if s, f := e.counter("sent", "r"), e.counter("failed", "r"); s != tt.sent || f != 1-tt.sent {
				t.Errorf("sent %v failed %v, want %v and %v", s, f, tt.sent, 1-tt.sent)
			}
		})
	}
}

// TestDrainTimeout checks that Run gives up on a webhook that never answers
// once the drain time is over, reporting the abandoned alert.
func TestDrainTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	e := newEnv(t, []Route{{Name: "r", Kind: ServiceTeams, URL: srv.URL}}, Options{DrainTimeout: 50 * time.Millisecond})
	if err := e.n.Send(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	if err := e.run(t)(); !errors.Is(err, ErrDrainTimeout) {
		t.Fatalf("Run = %v, want ErrDrainTimeout", err)
	}
	if f := e.counter("failed", "r"); f != 1 {
		t.Errorf("failed = %v, want 1", f)
	}
}

// TestErrorHidesURL checks that a delivery error does not carry the webhook
// URL, whose path is the secret.
func TestErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/services/T000/B000/secret-token"
	srv.Close() // connection refused from now on
	e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: url}}, Options{MaxAttempts: 1})
	err := e.n.post(context.Background(), e.n.routes[0], []byte(`{}`))
	if !errors.Is(err, ErrDelivery) {
		t.Fatalf("post = %v, want ErrDelivery", err)
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Errorf("error %q reveals the webhook URL", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"Wed, 01 Jul 2026 12:00:45 GMT", 45 * time.Second, true},
		{"Wed, 01 Jul 2026 11:00:00 GMT", 0, true}, // in the past
		{"99999999999999999999", 0, false},         // overflows int64
		{"9223372036854775807", time.Duration(1<<63-1) / time.Second * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzParseRetryAfter checks that any header value gives a non-negative wait.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Wed, 01 Jul 2026 12:00:45 GMT", "-5", "9223372036854775807", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
	})
}
