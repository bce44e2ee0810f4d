package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// titlesOf decodes the title of every request a hook received (Slack header
// block or Teams first TextBlock).
func titlesOf(t *testing.T, h *hook) []string {
	t.Helper()
	var out []string
	for _, r := range h.requests() {
		var s slackPayload
		var m teamsPayload
		switch {
		case json.Unmarshal([]byte(r.Body), &m) == nil && len(m.Attachments) == 1:
			out = append(out, m.Attachments[0].Content.Body[0].Text)
		case json.Unmarshal([]byte(r.Body), &s) == nil && len(s.Blocks) > 0:
			out = append(out, s.Blocks[0].Text.Text)
		default:
			t.Fatalf("unrecognised payload %s", r.Body)
		}
	}
	slices.Sort(out)
	return out
}

func TestDefaultRouting(t *testing.T) {
	slack, stewards, devops := newHook(t), newHook(t), newHook(t)
	routes := DefaultRoutes(Channels{SlackCritical: slack.URL, Stewards: stewards.URL, StewardsKind: ServiceTeams, TeamsDevOps: devops.URL})
	e := newEnv(t, routes, Options{})
	stop := e.run(t)
	sends := []struct {
		alert Alert
		err   error
	}{
		{Alert{Severity: SeverityCritical, Kind: KindPipeline, Title: "pipeline down"}, nil},
		{Alert{Severity: SeverityCritical, Kind: KindSLA, Title: "ploomes stale"}, nil},
		{Alert{Severity: SeverityWarning, Kind: KindSLA, Title: "sla warning"}, ErrNoRoute},
		{Alert{Severity: SeverityWarning, Kind: KindPipeline, Title: "pipeline slow"}, ErrNoRoute},
		{Alert{Severity: SeverityWarning, Kind: KindQuality, Title: "cpf invalid"}, nil},
		{Alert{Severity: SeverityCritical, Kind: KindQuality, Title: "suite failed"}, nil},
		{Alert{Severity: SeverityInfo, Kind: KindPerformance, Title: "p95 up"}, nil},
		{Alert{Severity: "fatal", Kind: KindPipeline, Title: "x"}, ErrInvalidAlert},
		{Alert{Severity: SeverityInfo, Kind: "billing", Title: "x"}, ErrInvalidAlert},
		{Alert{Severity: SeverityInfo, Kind: KindPipeline, Title: " "}, ErrInvalidAlert},
	}
	for _, s := range sends {
		t.Run(s.alert.Title, func(t *testing.T) {
			err := e.n.Send(context.Background(), s.alert)
			if !errors.Is(err, s.err) || (s.err == nil && err != nil) {
				t.Errorf("Send = %v, want %v", err, s.err)
			}
		})
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, c := range []struct {
		h    *hook
		want []string
	}{
		{slack, []string{"pipeline down", "ploomes stale"}},
		{stewards, []string{"cpf invalid", "suite failed"}},
		{devops, []string{"p95 up"}},
	} {
		if got := titlesOf(t, c.h); !slices.Equal(got, c.want) {
			t.Errorf("webhook got %q, want %q", got, c.want)
		}
	}
	if got := e.counter("sent", "stewards"); got != 2 {
		t.Errorf("stewards sent = %v, want 2", got)
	}
}

func TestDefaultRoutesOmitEmpty(t *testing.T) {
	rs := DefaultRoutes(Channels{Stewards: "https://hooks.slack.com/services/x"})
	if len(rs) != 1 || rs[0].Name != "stewards" || rs[0].Kind != ServiceSlack {
		t.Fatalf("DefaultRoutes = %+v, want only a slack stewards route", rs)
	}
}

// TestDedupe sends alerts at clock offsets and counts what reaches the hook.
func TestDedupe(t *testing.T) {
	a := Alert{Severity: SeverityCritical, Kind: KindPipeline, Title: "down", Key: "sink/ploomes"}
	type step struct {
		at    time.Duration // clock offset from the start
		alert Alert
	}
	other := a
	other.Key = "sink/sap"
	sameKeyNewTitle := a
	sameKeyNewTitle.Title = "still down"
	noKey := Alert{Severity: SeverityCritical, Kind: KindPipeline, Title: "down"}
	tests := []struct {
		name      string
		steps     []step
		sent, dup float64
	}{
		{"once", []step{{0, a}}, 1, 0},
		{"repeat within window", []step{{0, a}, {time.Minute, a}, {10*time.Minute - time.Nanosecond, a}}, 1, 2},
		{"window measured from the sent one", []step{{0, a}, {9 * time.Minute, a}, {10 * time.Minute, a}, {15 * time.Minute, a}}, 2, 2},
		{"other key", []step{{0, a}, {0, other}}, 2, 0},
		{"key wins over title", []step{{0, a}, {time.Minute, sameKeyNewTitle}}, 1, 1},
		{"no key uses kind severity title", []step{{0, noKey}, {time.Second, noKey}, {time.Second, a}}, 2, 1},
		{"after sweep", []step{{0, a}, {11 * time.Minute, other}, {12 * time.Minute, a}}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHook(t)
			e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: h.URL}}, Options{})
			stop := e.run(t)
			start := e.clock.Now()
			for _, s := range tt.steps {
				e.clock.Advance(start.Add(s.at).Sub(e.clock.Now()))
				if err := e.n.Send(context.Background(), s.alert); err != nil {
					t.Fatalf("Send: %v", err)
				}
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got := float64(h.count()); got != tt.sent {
				t.Errorf("hook got %v alerts, want %v", got, tt.sent)
			}
			if got := e.counter("sent", "r"); got != tt.sent {
				t.Errorf("sent = %v, want %v", got, tt.sent)
			}
			if got := e.counter("deduplicated", "r"); got != tt.dup {
				t.Errorf("deduplicated = %v, want %v", got, tt.dup)
			}
		})
	}
}

// TestDedupePerRoute checks that two routes de-duplicate independently.
func TestDedupePerRoute(t *testing.T) {
	h1, h2 := newHook(t), newHook(t)
	e := newEnv(t, []Route{
		{Name: "all", Kind: ServiceSlack, URL: h1.URL},
		{Name: "critical", Kind: ServiceTeams, URL: h2.URL, Severities: []string{SeverityCritical}},
	}, Options{})
	a := Alert{Severity: SeverityCritical, Kind: KindPipeline, Title: "down"}
	for range 3 {
		if err := e.n.Send(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.run(t)(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"all", "critical"} {
		if s, d := e.counter("sent", r), e.counter("deduplicated", r); s != 1 || d != 2 {
			t.Errorf("route %s: sent %v deduplicated %v, want 1 and 2", r, s, d)
		}
	}
	if h1.count() != 1 || h2.count() != 1 {
		t.Errorf("hooks got %d and %d requests, want 1 each", h1.count(), h2.count())
	}
}

// TestRateLimit drives the per-route token bucket with the fake clock.
func TestRateLimit(t *testing.T) {
	h := newHook(t)
	e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: h.URL}}, Options{RateLimit: 6})
	n := 0
	send := func() {
		n++
		a := Alert{Severity: SeverityWarning, Kind: KindQuality, Title: fmt.Sprintf("alert %d", n)}
		if err := e.n.Send(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		advance      time.Duration
		sends        int
		sent, denied float64 // cumulative
	}{
		{0, 8, 6, 2},                 // burst of 6, then limited
		{5 * time.Second, 1, 6, 3},   // half a token
		{5 * time.Second, 2, 7, 4},   // one token after 10s (6/min)
		{time.Hour, 10, 13, 8},       // bucket refilled to 6, not 360
		{30 * time.Second, 3, 16, 8}, // 3 tokens
	}
	for i, s := range steps {
		e.clock.Advance(s.advance)
		for range s.sends {
			send()
		}
		queued := float64(len(e.n.routes[0].queue))
		if queued != s.sent || e.counter("rate_limited", "r") != s.denied {
			t.Fatalf("step %d: queued %v rate_limited %v, want %v and %v",
				i, queued, e.counter("rate_limited", "r"), s.sent, s.denied)
		}
	}
	if err := e.run(t)(); err != nil {
		t.Fatal(err)
	}
	if h.count() != 16 || e.counter("sent", "r") != 16 {
		t.Errorf("delivered %d (sent counter %v), want 16", h.count(), e.counter("sent", "r"))
	}
}

// TestRateLimitedNotRemembered checks a rate-limited alert is not recorded
// for de-duplication: the next occurrence goes out once tokens are back.
func TestRateLimitedNotRemembered(t *testing.T) {
	h := newHook(t)
	e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: h.URL}}, Options{RateLimit: 1})
	a := Alert{Severity: SeverityWarning, Kind: KindQuality, Title: "a"}
	b := Alert{Severity: SeverityWarning, Kind: KindQuality, Title: "b"}
	for _, x := range []Alert{a, b} {
		if err := e.n.Send(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Minute)
	if err := e.n.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := e.run(t)(); err != nil {
		t.Fatal(err)
	}
	if got := titlesOf(t, h); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("delivered %q, want a and b", got)
	}
	if d, r := e.counter("deduplicated", "r"), e.counter("rate_limited", "r"); d != 0 || r != 1 {
		t.Errorf("deduplicated %v rate_limited %v, want 0 and 1", d, r)
	}
}

// TestFailedDeliveryIsForgotten checks that an alert the webhook refused is
// not treated as a duplicate next time.
func TestFailedDeliveryIsForgotten(t *testing.T) {
	h := newHook(t, status(http.StatusBadRequest, ""))
	e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: h.URL}}, Options{})
	a := Alert{Severity: SeverityCritical, Kind: KindPipeline, Title: "down"}
	if err := e.n.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	stop := e.run(t)
	// The first Send's delivery must finish before the second Send: wait on
	// the failed counter (no deadline: the test binary's timeout bounds it).
	for e.counter("failed", "r") == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := e.n.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if h.count() != 2 || e.counter("sent", "r") != 1 || e.counter("deduplicated", "r") != 0 {
		t.Errorf("hook %d requests, sent %v, deduplicated %v; want 2, 1, 0",
			h.count(), e.counter("sent", "r"), e.counter("deduplicated", "r"))
	}
}

func TestQueueFull(t *testing.T) {
	h := newHook(t)
	e := newEnv(t, []Route{{Name: "r", Kind: ServiceSlack, URL: h.URL}}, Options{QueueSize: 2})
	for i := range 3 {
		err := e.n.Send(context.Background(), Alert{Severity: SeverityInfo, Kind: KindSLA, Title: fmt.Sprint(i)})
		if want := i == 2; errors.Is(err, ErrQueueFull) != want {
			t.Fatalf("Send %d = %v, want ErrQueueFull %v", i, err, want)
		}
	}
	if err := e.run(t)(); err != nil {
		t.Fatal(err)
	}
	if h.count() != 2 || e.counter("failed", "r") != 1 {
		t.Errorf("hook %d requests, failed %v; want 2 and 1", h.count(), e.counter("failed", "r"))
	}
}
