package kafka_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

func TestEnsureTopics(t *testing.T) {
	c := kafkatest.NewCluster(t)
	cl, err := kafka.NewClient(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 20*time.Second)

	specs := []kafka.TopicSpec{
		{Name: "raw.ploomes.deals", Partitions: 3, Configs: map[string]string{"retention.ms": "604800000"}},
		{Name: "staging.deals", Partitions: 1, ReplicationFactor: 1},
		{Name: "quality.results"}, // broker defaults
	}
	for i := range 2 { // the second round finds everything in place
		if err := kafka.EnsureTopics(ctx, cl, specs...); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	// A fresh client: kadm answers from the client's metadata cache.
	fresh, err := kafka.NewClient(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	adm := kadm.NewClient(fresh)
	details, err := adm.ListTopics(ctx, "raw.ploomes.deals", "staging.deals", "quality.results")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"raw.ploomes.deals": 3, "staging.deals": 1} {
		if got := len(details[name].Partitions); got != want {
			t.Errorf("%s has %d partitions, want %d", name, got, want)
		}
	}
	if len(details["quality.results"].Partitions) == 0 {
		t.Error("quality.results was not created")
	}
	rc, err := adm.DescribeTopicConfigs(ctx, "raw.ploomes.deals")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cfg := range rc[0].Configs {
		if cfg.Key == "retention.ms" && cfg.MaybeValue() == "604800000" {
			found = true
		}
	}
	if !found {
		t.Error("retention.ms was not applied")
	}
}

func TestEnsureTopicsConcurrent(t *testing.T) {
	c := kafkatest.NewCluster(t)
	ctx := testCtx(t, 30*time.Second)
	specs := []kafka.TopicSpec{{Name: "raw.a", Partitions: 2}, {Name: "raw.b", Partitions: 2}, {Name: "raw.c", Partitions: 2}}

	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			cl, err := kafka.NewClient(c.Config())
			if err != nil {
				errs <- err
				return
			}
			defer cl.Close()
			errs <- kafka.EnsureTopics(ctx, cl, specs...)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent EnsureTopics: %v", err)
		}
	}
	cl, err := kafka.NewClient(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(ctx, "raw.a", "raw.b", "raw.c")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if got := len(details[s.Name].Partitions); got != 2 {
			t.Errorf("%s has %d partitions, want 2", s.Name, got)
		}
	}
}

func TestEnsureTopicsErrorsNameTheTopic(t *testing.T) {
	c := kafkatest.NewCluster(t)
	cl, err := kafka.NewClient(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 20*time.Second)

	tests := []struct {
		name  string
		specs []kafka.TopicSpec
		want  string
	}{
		{"empty name", []kafka.TopicSpec{{Name: ""}}, "empty topic name"},
		{"duplicate", []kafka.TopicSpec{{Name: "dup"}, {Name: "dup"}}, "dup"},
		{"negative partitions", []kafka.TopicSpec{{Name: "neg", Partitions: -3}}, "neg"},
		{"broker rejects replication factor", []kafka.TopicSpec{{Name: "ok.topic"}, {Name: "rf.three", ReplicationFactor: 3}}, "ensure topic rf.three: create: INVALID_REPLICATION_FACTOR"},
		{"broker rejects colliding name", []kafka.TopicSpec{{Name: "raw.x"}, {Name: "raw_x"}}, "create: INVALID_TOPIC_EXCEPTION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := kafka.EnsureTopics(ctx, cl, tt.specs...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("EnsureTopics(%v) = %v, want an error naming %q", tt.specs, err, tt.want)
			}
		})
	}
}
