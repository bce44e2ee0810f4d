package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestRebalanceMovesPartitionsMidFile runs two engines in one group while a
// producer writes: the second joins (partitions leave the first with files
// open), the first leaves and comes back. In the end every record is in
// the lake exactly once, per partition by count and checksum.
func TestRebalanceMovesPartitionsMidFile(t *testing.T) {
	h := newHarness(t, "")
	const topic = "raw.rebal.events"
	const parts = 4
	h.createTopic(topic, parts)
	enc := h.encoder(topic, leadSchema)
	pr := h.startProducer(enc, topic, parts, 40, 10*time.Millisecond)
	// Long rotation: files are open when partitions move.
	cfg := Config{RotateRecords: 1_000_000, RotateInterval: 1500 * time.Millisecond}
	a := h.start(h.engine(cfg))
	time.Sleep(1200 * time.Millisecond)
	b := h.start(h.engine(cfg))
	waitFor(t, 30*time.Second, "both engines to own partitions", func() bool {
		return len(a.e.Status().Partitions) > 0 && len(b.e.Status().Partitions) > 0
	})
	time.Sleep(1200 * time.Millisecond)
	a.stop(t)
	time.Sleep(1200 * time.Millisecond)
	a2 := h.start(h.engine(cfg))
	time.Sleep(1200 * time.Millisecond)
	counts := pr.stop(t)
	h.waitCommitted(topic, h.endOffsets(topic), 90*time.Second)
	b.stop(t)
	a2.stop(t)

	got := duck(t, h.localLake("raw/"), fmt.Sprintf(partitionSums, "raw"))
	if want := expectPartitions(counts); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("duckdb per partition (p, count, distinct, sum) %v, want %v", got, want)
	}
	abandoned := sumCounter(a.e.metrics.abandons) + sumCounter(b.e.metrics.abandons) + sumCounter(a2.e.metrics.abandons)
	t.Logf("records per partition %v; open ranges abandoned on revoke: %v", counts, abandoned)
	if abandoned == 0 {
		t.Errorf("no open range was abandoned: partitions did not move mid-file")
	}
}

// sumCounter adds up every series of a counter vector.
func sumCounter(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err == nil {
			sum += d.GetCounter().GetValue()
		}
	}
	return sum
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
