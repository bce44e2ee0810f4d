package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// plan is how hard a run shakes the stack.
type plan struct {
	kills    []string      // services killed, in this order
	interval time.Duration // pause between one generator worker's requests
	workers  int           // requests in flight at once
}

// planFor is the reduced plan under -short, every service once by default,
// and every service twice with more traffic when RIACHO_CHAOS_FULL=1.
func planFor() plan {
	switch {
	case os.Getenv("RIACHO_CHAOS_FULL") == "1":
		return plan{kills: append(append([]string(nil), order...), order...), interval: 15 * time.Millisecond, workers: 3}
	case testing.Short():
		return plan{kills: []string{"intake", "sink", "transform"}, interval: 40 * time.Millisecond, workers: 2}
	}
	return plan{kills: order, interval: 25 * time.Millisecond, workers: 2}
}

// TestEveryAcceptedEventExactlyOnceThroughKills runs the services as
// processes under steady webhook traffic, kills each in turn with SIGKILL
// mid-stream and restarts it, then checks that every event the intake
// accepted is in the lake, in curated-or-quarantine and in the warehouse
// exactly once (count and checksum against the generator's record).
func TestEveryAcceptedEventExactlyOnceThroughKills(t *testing.T) {
	p := planFor()
	st := newStack(t, order)
	st.startAll(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("plan: kill %v; %d generator workers every %s; seed %d", p.kills, p.workers, p.interval, seed)

	gen := newGenerator(st.intakeURL, st.env, p.interval, seed)
	rng := rand.New(rand.NewPCG(seed, 0xc4a05)) //nolint:gosec // kill timing
	trafficCtx, cancelTraffic := context.WithCancel(context.Background())
	defer cancelTraffic()
	stop := make(chan struct{})
	genDone := make(chan error, 1)
	go func() { genDone <- gen.run(trafficCtx, stop, p.workers) }()
	stopTraffic := func() {
		close(stop)
		// A request in hand is delivered once the intake is back; bounded.
		timer := time.AfterFunc(2*time.Minute, cancelTraffic)
		defer timer.Stop()
		if err := <-genDone; err != nil {
			t.Fatalf("traffic: %v", err)
		}
	}
	defer func() {
		select {
		case <-stop:
		default:
			cancelTraffic()
			close(stop)
			<-genDone
		}
	}()

	probes := st.progressProbes(t, gen)
	for i, name := range p.kills {
		s := st.svcs[name]
		st.waitProgress(t, name, probes[name])
		time.Sleep(time.Duration(200+rng.IntN(1000)) * time.Millisecond)
		st.alive(t)
		s.kill(t)
		n, failed := gen.count()
		t.Logf("kill %d: %s killed with SIGKILL (%d events accepted, %d failed attempts so far)", i+1, name, n, failed)
		s.start(t, 2*time.Minute)
	}
	// Traffic goes on through the last restart before it stops.
	st.waitProgress(t, "intake", probes["intake"])
	stopTraffic()
	st.alive(t)

	want := gen.accepted()
	n, failed := gen.count()
	t.Logf("traffic stopped: %d events accepted, %d failed attempts retried", n, failed)
	st.waitSinkDrained(t, want)
	st.waitGateDrained(t, want)
	st.checkLake(t, want)
	curated := st.checkGate(t, want)
	st.checkWarehouse(t, curated)
}

// progressProbes returns, per service, a number that grows while traffic
// flows through it: accepted events (intake), the committed offsets of its
// consumer groups (sink, transform, quality), loads committed by the
// running process (metrics).
func (st *stack) progressProbes(t *testing.T, gen *generator) map[string]func() int64 {
	adm := st.admin(t)
	groups := func(gs ...string) func() int64 {
		return func() int64 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var n int64
			for _, g := range gs {
				n += committedSum(ctx, adm, g)
			}
			return n
		}
	}
	return map[string]func() int64{
		"intake":    func() int64 { n, _ := gen.count(); return int64(n) },
		"sink":      groups("riacho-sink"),
		"transform": groups(transformGroups...),
		"quality":   groups(qualityGroups...),
		"metrics":   func() int64 { return scrapeCounter(st.svcs["metrics"], "riacho_warehouse_loader_batches_total") },
	}
}

// waitProgress waits until probe grows past its value now: traffic is
// flowing through the service.
func (st *stack) waitProgress(t *testing.T, name string, probe func() int64) {
	t.Helper()
	base := probe()
	waitFor(t, 3*time.Minute, fmt.Sprintf("traffic flowing through %s (progress stuck at %d)", name, base), func() (bool, string) {
		st.alive(t)
		return probe() > base, ""
	})
}

// waitFor polls cond until it holds; on timeout it fails t with what and
// the last detail cond gave.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s: %s", timeout, what, detail)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
