package kafka_test

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

func TestSASL(t *testing.T) {
	c := kafkatest.NewCluster(t,
		kfake.EnableSASL(),
		kfake.Superuser(kafka.SASLPlain, "alice", "plain-pw"),
		kfake.Superuser(kafka.SASLScramSHA256, "bob", "scram256-pw"),
		kfake.Superuser(kafka.SASLScramSHA512, "carol", "scram512-pw"),
	)
	dir := t.TempDir()
	tests := []struct {
		name, mech, user, pass string
		fromFile               bool
		ok                     bool
	}{
		{"plain", kafka.SASLPlain, "alice", "plain-pw", false, true},
		{"scram-sha-256", kafka.SASLScramSHA256, "bob", "scram256-pw", false, true},
		{"scram-sha-512 from file", kafka.SASLScramSHA512, "carol", "scram512-pw", true, true},
		{"plain wrong password", kafka.SASLPlain, "alice", "WRONG-pw-123", false, false},
		{"scram wrong password", kafka.SASLScramSHA256, "bob", "WRONG-pw-456", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := c.Config()
			cfg.SASLMechanism = tt.mech
			cfg.SASLUsername = tt.user
			if tt.fromFile {
				cfg.SASLPasswordFile = writeFile(t, dir, tt.user, tt.pass+"\n")
			} else {
				cfg.SASLPassword = tt.pass
			}
			cl, err := kafka.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			topic := "sasl." + tt.user
			wait := 10 * time.Second
			if !tt.ok {
				wait = time.Second // a refused login is retried until the deadline
			}
			err = kafka.EnsureTopics(testCtx(t, wait), cl, kafka.TopicSpec{Name: topic, Partitions: 1})
			if !tt.ok {
				if err == nil {
					t.Fatal("EnsureTopics with a wrong password succeeded")
				}
				if strings.Contains(err.Error(), tt.pass) {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("EnsureTopics: %v", err)
			}
			p := newProducer(t, cfg, kafka.ProducerOptions{})
			if err := p.ProduceAll(testCtx(t, 5*time.Second), []*kgo.Record{{Topic: topic, Value: []byte(tt.user)}}); err != nil {
				t.Fatalf("produce as %s: %v", tt.user, err)
			}
		})
	}
}
