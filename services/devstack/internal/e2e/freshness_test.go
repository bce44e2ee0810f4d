package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shared is the stack the benchmarks share across their calls (the testing
// package calls a benchmark several times); TestMain stops it.
var shared struct {
	once sync.Once
	h    *harness
	dir  string
	err  error
}

// sharedStack starts the benchmarks' stack once: every service, with the
// devstack defaults and its demo traffic as the background load.
func sharedStack(b *testing.B) *harness {
	b.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "riacho-e2e-bench-")
		if shared.err != nil {
			return
		}
		opts := stackOptions(b, shared.dir)
		opts.DemoTraffic = true
		opts.DemoInterval = benchDemoInterval
		shared.h, shared.err = start(context.Background(), opts, nil)
	})
	if shared.err != nil {
		b.Fatal(shared.err)
	}
	return shared.h
}

// benchDemoInterval paces the background demo traffic: per round one
// WhatsApp notification, a Ploomes deal every 3rd round, a Meta lead every
// 5th, a shop order every 4th and a 20-row spreadsheet every 60th.
const benchDemoInterval = 500 * time.Millisecond

// stopShared stops the benchmarks' stack, if one was started.
func stopShared() error {
	if shared.h == nil {
		if shared.dir != "" {
			return os.RemoveAll(shared.dir)
		}
		return nil
	}
	err := shared.h.st.Stop()
	shared.h = nil
	if rerr := os.RemoveAll(shared.dir); err == nil {
		err = rerr
	}
	return err
}

// benchDealID numbers the benchmark's deals apart from the demo's (400000-400999).
var benchDealID atomic.Int64

// BenchmarkEndToEndFreshness measures, under light background demo traffic,
// how long a won Ploomes deal takes from the intake's 2xx answer until
// MetricsService.Query's mrr includes it. Each iteration posts one deal of
// R$ 1.200,00 a year (mrr + R$ 100,00) in a product category of its own,
// so the background deals do not move the figure watched, and polls the
// metric until it grew by exactly that. Reported: p50, p99 and max in ms,
// and the median and p99 of each stage (accepted→raw, raw→staging,
// staging→curated as read_committed consumers see them, curated→warehouse
// by the answer's loaded_at, warehouse→answer).
func BenchmarkEndToEndFreshness(b *testing.B) {
	h := sharedStack(b)
	ctx := context.Background()
	mc, err := h.metricsClient()
	if err != nil {
		b.Fatal(err)
	}
	defer mc.Close()
	category := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	probe, err := h.startProbe(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer probe.stop()
	key := h.env["RIACHO_PLOOMES_VALIDATION_KEY"]
	samples := make([]sample, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := deal{ID: 800_000_000 + benchDealID.Add(1), StatusID: 2, Cents: 120_000, Category: category,
			Email: "bench@exemplo.com.br", At: time.Now().UTC()}
		a, err := h.postPloomes(ctx, d.body(), key)
		accepted(b, fmt.Sprintf("deal %d", d.ID), a, err)
		s, err := awaitMRR(ctx, mc, category, int64(i+1)*d.monthlyCents())
		if err != nil {
			b.Fatalf("deal %d: %v", d.ID, err)
		}
		s.id, s.accepted = strconv.FormatInt(d.ID, 10), a.at
		samples = append(samples, s)
	}
	b.StopTimer()
	reportFreshness(b, samples, probe)
}

// sample is one deal's way through the stack.
type sample struct {
	id       string
	accepted time.Time // the intake's 2xx
	loaded   time.Time // loaded_at of the first answer that included it
	answered time.Time // that answer
}

// awaitMRR polls mrr of category until it reaches want centavos.
func awaitMRR(ctx context.Context, mc *metricsClient, category string, want int64) (sample, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m, loaded, err := mc.mrrLoaded(ctx, categoryIs(category))
		if err != nil {
			return sample{}, err
		}
		switch got := m.total(); {
		case got == want:
			return sample{loaded: loaded, answered: time.Now()}, nil
		case got > want:
			return sample{}, fmt.Errorf("mrr of %s is %s, beyond the %s posted", category, money(got), money(want))
		}
		if time.Now().After(deadline) {
			return sample{}, fmt.Errorf("mrr of %s is %s after 2m, want %s", category, money(m.total()), money(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reportFreshness reports the end-to-end percentiles and each stage's.
func reportFreshness(b *testing.B, samples []sample, p *probe) {
	total := make([]time.Duration, 0, len(samples))
	stages := map[string][]time.Duration{}
	for _, s := range samples {
		total = append(total, s.answered.Sub(s.accepted))
		raw, okRaw := p.seenAt("raw", s.id)
		stg, okStg := p.seenAt("staging", s.id)
		cur, okCur := p.seenAt("curated", s.id)
		if !okRaw || !okStg || !okCur {
			continue // the probe fell behind on this one; its stages are left out
		}
		stages["accepted-raw"] = append(stages["accepted-raw"], raw.Sub(s.accepted))
		stages["raw-staging"] = append(stages["raw-staging"], stg.Sub(raw))
		stages["staging-curated"] = append(stages["staging-curated"], cur.Sub(stg))
		stages["curated-warehouse"] = append(stages["curated-warehouse"], s.loaded.Sub(cur))
		stages["warehouse-answer"] = append(stages["warehouse-answer"], s.answered.Sub(s.loaded))
	}
	b.ReportMetric(ms(percentile(total, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(total, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(total, 1)), "max-ms")
	for _, name := range []string{"accepted-raw", "raw-staging", "staging-curated", "curated-warehouse", "warehouse-answer"} {
		d := stages[name]
		b.ReportMetric(ms(percentile(d, 0.50)), name+"-p50-ms")
		b.ReportMetric(ms(percentile(d, 0.99)), name+"-p99-ms")
	}
	b.Logf("%d deals, %d with every stage seen by the probe", len(samples), len(stages["raw-staging"]))
}

// percentile is the nearest-rank q-quantile of d (0 when empty).
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
