package polltest

import (
	"context"
	"testing"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/poll"
)

// Start runs p until stop is called or the test ends, and closes it then.
func Start(t testing.TB, p *poll.Poller) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("poller Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("poller did not stop within 30s")
		}
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer ccancel()
		if err := p.Close(cctx); err != nil {
			t.Logf("poller Close: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// Status is the status of one entity of p.
func Status(t testing.TB, p *poll.Poller, entity string) poll.EntityStatus {
	t.Helper()
	for _, s := range p.Status() {
		if s.Entity == entity {
			return s
		}
	}
	t.Fatalf("poller has no entity %q", entity)
	return poll.EntityStatus{}
}

// WaitFor waits until cond holds for entity's status, failing the test
// after timeout.
func WaitFor(t testing.TB, p *poll.Poller, entity string, timeout time.Duration, what string, cond func(poll.EntityStatus) bool) poll.EntityStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := Status(t, p, entity)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("entity %s: %s not reached within %v; status %+v", entity, what, timeout, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pass makes entity poll now and waits until a poll that started after the
// call has caught up; it returns the entity's status then.
func Pass(t testing.TB, p *poll.Poller, entity string) poll.EntityStatus {
	t.Helper()
	t0 := time.Now()
	p.PollNow(entity)
	return WaitFor(t, p, entity, 30*time.Second, "a successful poll", func(s poll.EntityStatus) bool {
		return s.LastPoll.After(t0) && s.LastSuccess.After(s.LastPoll)
	})
}
