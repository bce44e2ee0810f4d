package kafkatest_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func produce(t *testing.T, c *kafkatest.Cluster, topic string, values ...string) {
	t.Helper()
	cl, err := kafka.NewClient(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRestartKeepsAddressAndData(t *testing.T) {
	c := kafkatest.NewCluster(t)
	addrs := c.Addrs()
	if len(addrs) != 1 {
		t.Fatalf("addrs = %v, want one broker", addrs)
	}
	c.CreateTopic(t, "raw.keep", 2)
	produce(t, c, "raw.keep", "a", "b", "c")

	c.Stop()
	if c.Kfake() != nil {
		t.Fatal("Kfake() after Stop is not nil")
	}
	c.Stop() // idempotent
	c.Restart()
	if got := c.Addrs(); got[0] != addrs[0] {
		t.Fatalf("restarted on %v, want %v", got, addrs)
	}
	if got := c.Kfake().ListenAddrs(); got[0] != addrs[0] {
		t.Fatalf("kfake listens on %v, want %v", got, addrs)
	}
	produce(t, c, "raw.keep", "d")
	got := map[string]bool{}
	for _, r := range c.Consume(t, "raw.keep", 4, 10*time.Second) {
		got[string(r.Value)] = true
	}
	for _, v := range []string{"a", "b", "c", "d"} {
		if !got[v] {
			t.Errorf("record %q lost across the restart", v)
		}
	}
}

func TestOptionsApply(t *testing.T) {
	c := kafkatest.NewCluster(t, kfake.NumBrokers(3), kfake.SeedTopics(4, "seeded"))
	if n := len(c.Addrs()); n != 3 {
		t.Fatalf("%d brokers, want 3", n)
	}
	cfg := c.Config()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Config() does not validate: %v", err)
	}
	produce(t, c, "seeded", "x")
	if recs := c.Consume(t, "seeded", 1, 10*time.Second); string(recs[0].Value) != "x" {
		t.Fatalf("consumed %q", recs[0].Value)
	}
}

func TestNoAutoTopicCreation(t *testing.T) {
	c := kafkatest.NewCluster(t)
	cl, err := kafka.NewClient(c.Config(), kgo.UnknownTopicRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "never.created", Value: []byte("x")}).FirstErr(); err == nil {
		t.Fatal("produce to a topic nobody created succeeded")
	}
}
