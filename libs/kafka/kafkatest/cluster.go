// Package kafkatest runs an in-process Kafka-protocol broker (franz-go's
// kfake) on a loopback TCP port for tests, with persistence so that a test
// can stop the broker and bring it back on the same address with its data.
package kafkatest

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
)

// Cluster is a kfake cluster owned by one test; it is closed by t.Cleanup.
type Cluster struct {
	tb    testing.TB
	opts  []kfake.Opt
	dir   string
	addrs []string
	ports []int

	mu sync.Mutex
	c  *kfake.Cluster // nil while stopped
}

// NewCluster starts a one-broker cluster on 127.0.0.1 with its data in a
// t.TempDir. opts are applied after the defaults (NumBrokers(1), DataDir),
// so a test may ask for more brokers, SASL, TLS or seed topics. Topics are
// not auto-created unless opts say kfake.AllowAutoTopicCreation().
func NewCluster(t testing.TB, opts ...kfake.Opt) *Cluster {
	t.Helper()
	c := &Cluster{tb: t, dir: t.TempDir()}
	c.opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(c.dir)}, opts...)
	kc, err := kfake.NewCluster(c.opts...)
	if err != nil {
		t.Fatalf("kafkatest: start kfake: %v", err)
	}
	c.c = kc
	c.addrs = kc.ListenAddrs()
	for _, a := range c.addrs {
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatalf("kafkatest: listen address %q: %v", a, err)
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			t.Fatalf("kafkatest: listen port %q: %v", a, err)
		}
		c.ports = append(c.ports, n)
	}
	t.Cleanup(c.Stop)
	return c
}

// Addrs returns the brokers' host:port addresses; they survive Restart.
func (c *Cluster) Addrs() []string { return append([]string(nil), c.addrs...) }

// Config returns a kafka.Config pointing at the cluster, with short
// timeouts suited to tests.
func (c *Cluster) Config() kafka.Config {
	cfg := kafka.DefaultConfig()
	cfg.Brokers = c.Addrs()
	cfg.ClientID = "kafkatest"
	cfg.DialTimeout = 2 * time.Second
	cfg.RequestTimeout = 5 * time.Second
	return cfg
}

// Kfake returns the running kfake cluster, or nil while stopped.
func (c *Cluster) Kfake() *kfake.Cluster {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

// Stop shuts the brokers down, dropping every connection; data stays on
// disk for Restart. Stopping a stopped cluster does nothing.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// Restart starts a stopped cluster again on the same ports with the data it
// had (it stops a running one first).
func (c *Cluster) Restart() {
	c.tb.Helper()
	c.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	opts := append(append([]kfake.Opt(nil), c.opts...), kfake.Ports(c.ports...))
	var (
		kc  *kfake.Cluster
		err error
	)
	// The port was just released; retry briefly in case the kernel has not
	// let go of it yet.
	for i := 0; i < 50; i++ {
		if kc, err = kfake.NewCluster(opts...); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.tb.Fatalf("kafkatest: restart kfake on %v: %v", c.addrs, err)
	}
	c.c = kc
}

// client returns a plain client for the helpers, closed by the caller.
func (c *Cluster) client(opts ...kgo.Opt) *kgo.Client {
	c.tb.Helper()
	cl, err := kafka.NewClient(c.Config(), opts...)
	if err != nil {
		c.tb.Fatalf("kafkatest: client: %v", err)
	}
	return cl
}

// CreateTopic creates topic with the given number of partitions, failing t
// on error (including when it already exists).
func (c *Cluster) CreateTopic(t testing.TB, name string, partitions int32) {
	t.Helper()
	cl := c.client()
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, name); err != nil {
		t.Fatalf("kafkatest: create topic %s: %v", name, err)
	}
}

// Consume reads topic from the start of every partition until it has n
// records, failing t if they do not arrive within timeout. It does not join
// a group or commit.
func (c *Cluster) Consume(t testing.TB, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl := c.client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollRecords(ctx, n-len(out))
		out = append(out, fs.Records()...)
		if ctx.Err() != nil {
			break
		}
	}
	if len(out) < n {
		t.Fatalf("kafkatest: consumed %d of %d records from %s within %s", len(out), n, topic, timeout)
	}
	return out
}
