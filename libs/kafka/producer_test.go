package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

func newProducer(t testing.TB, cfg kafka.Config, opts kafka.ProducerOptions, extra ...kgo.Opt) *kafka.Producer {
	t.Helper()
	p, err := kafka.NewProducer(cfg, opts, extra...)
	if err != nil {
		t.Fatalf("new producer: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func records(topic string, n int, prefix string) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%s-%d", prefix, i)}
	}
	return recs
}

func TestProduceAll(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.test.events", 3)
	p := newProducer(t, c.Config(), kafka.ProducerOptions{})

	recs := records("raw.test.events", 20, "v")
	if err := p.ProduceAll(testCtx(t, 10*time.Second), recs); err != nil {
		t.Fatalf("ProduceAll: %v", err)
	}
	for i, r := range recs {
		if r.Offset < 0 || r.Partition < 0 || r.Partition > 2 {
			t.Fatalf("record %d not acknowledged: partition %d offset %d", i, r.Partition, r.Offset)
		}
	}
	got := c.Consume(t, "raw.test.events", 20, 10*time.Second)
	seen := map[string]bool{}
	for _, r := range got {
		seen[string(r.Value)] = true
	}
	for _, r := range recs {
		if !seen[string(r.Value)] {
			t.Errorf("%s was acknowledged but not consumed", r.Value)
		}
	}
	if err := p.ProduceAll(testCtx(t, time.Second), nil); err != nil {
		t.Fatalf("ProduceAll(nil) = %v", err)
	}
}

func TestProduceAllFailureNamesTopic(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "exists", 1)
	p := newProducer(t, c.Config(), kafka.ProducerOptions{}, kgo.UnknownTopicRetries(1), kgo.MetadataMinAge(50*time.Millisecond))

	recs := append(records("exists", 2, "ok"), records("raw.missing.topic", 2, "lost")...)
	err := p.ProduceAll(testCtx(t, 20*time.Second), recs)
	if err == nil {
		t.Fatal("ProduceAll to a missing topic succeeded")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a broker error, got the deadline: %v", err)
	}
	for _, want := range []string{"2 failed", "raw.missing.topic"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	t.Logf("error: %v", err)
	if recs[0].Offset < 0 || recs[1].Offset < 0 {
		t.Error("records to the existing topic were not acknowledged")
	}
}

// TestProduceAllBrokerDown is the intake's 503 path: with the broker gone,
// ProduceAll must give up at the caller's deadline, and work again once the
// broker is back.
func TestProduceAllBrokerDown(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.down", 2)
	p := newProducer(t, c.Config(), kafka.ProducerOptions{}, kgo.MetadataMinAge(200*time.Millisecond))
	if err := p.ProduceAll(testCtx(t, 10*time.Second), records("raw.down", 4, "before")); err != nil {
		t.Fatalf("warm-up: %v", err)
	}

	c.Stop()
	const deadline = 500 * time.Millisecond
	const margin = 400 * time.Millisecond // generous for a loaded 2-core CI machine
	for i := range 3 {                    // repeated calls must not pile up behind each other
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		err := p.ProduceAll(ctx, records("raw.down", 3, fmt.Sprintf("down%d", i)))
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d with the broker down: err = %v, want deadline exceeded", i, err)
		}
		if took > deadline+margin {
			t.Fatalf("call %d returned after %s, want within %s", i, took, deadline+margin)
		}
	}

	c.Restart()
	after := records("raw.down", 4, "after")
	start := time.Now()
	if err := p.ProduceAll(testCtx(t, 20*time.Second), after); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	t.Logf("first ProduceAll after the restart took %s", time.Since(start))
	// Records of the abandoned calls that were already in flight may have
	// been written too: read everything the partitions hold.
	got := c.Consume(t, "raw.down", int(endOffsets(t, p.Client(), "raw.down")), 10*time.Second)
	values := map[string]int{}
	for _, r := range got {
		values[string(r.Value)]++
	}
	for _, r := range append(records("raw.down", 4, "before"), after...) {
		if values[string(r.Value)] != 1 {
			t.Errorf("%s stored %d times, want once (log: %v)", r.Value, values[string(r.Value)], values)
		}
	}
}

// endOffsets sums topic's high watermarks.
func endOffsets(t testing.TB, cl *kgo.Client, topic string) int64 {
	t.Helper()
	ends, err := kadm.NewClient(cl).ListEndOffsets(testCtx(t, 5*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

func TestProduceAllNoBrokerAtAll(t *testing.T) {
	c := kafkatest.NewCluster(t)
	cfg := c.Config()
	c.Stop() // nothing listens on the address from the start
	p := newProducer(t, cfg, kafka.ProducerOptions{})
	start := time.Now()
	err := p.ProduceAll(testCtx(t, 300*time.Millisecond), records("raw.none", 2, "x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if took := time.Since(start); took > 700*time.Millisecond {
		t.Fatalf("returned after %s", took)
	}
	// An already expired context fails at once without producing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.ProduceAll(ctx, records("raw.none", 1, "y")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

func TestProduceAsyncAndFlush(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "async", 1)
	p := newProducer(t, c.Config(), kafka.ProducerOptions{Linger: -1})
	ctx := testCtx(t, 10*time.Second)

	results := make(chan error, 5)
	for _, r := range records("async", 5, "a") {
		p.Produce(ctx, r, func(_ *kgo.Record, err error) { results <- err })
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(results) != 5 {
		t.Fatalf("after Flush %d of 5 promises ran", len(results))
	}
	for range 5 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
}

func TestProducerAlwaysIdempotent(t *testing.T) {
	c := kafkatest.NewCluster(t)
	if _, err := kafka.NewProducer(c.Config(), kafka.ProducerOptions{}, kgo.DisableIdempotentWrite()); !errors.Is(err, kafka.ErrIdempotenceRequired) {
		t.Fatalf("DisableIdempotentWrite: err = %v, want ErrIdempotenceRequired", err)
	}
	p := newProducer(t, c.Config(), kafka.ProducerOptions{}, kgo.RequiredAcks(kgo.LeaderAck()))
	acks, _ := p.Client().OptValue(kgo.RequiredAcks).(kgo.Acks)
	if acks != kgo.AllISRAcks() {
		t.Fatalf("acks = %v, want all", acks)
	}
}
