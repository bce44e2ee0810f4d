package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

// BenchmarkProduceAll measures the intake's hot path: one call per webhook
// request, three small records each, against kfake over loopback TCP.
// "parallel" runs GOMAXPROCS×16 concurrent callers, like an HTTP server
// under load; "blackhole" keeps the broker from storing records so that the
// client's cost dominates.
func BenchmarkProduceAll(b *testing.B) {
	value := make([]byte, 200)
	for _, bc := range []struct {
		name     string
		parallel bool
		opts     []kfake.Opt
	}{
		{"serial", false, nil},
		{"parallel", true, nil},
		{"parallel-blackhole", true, []kfake.Opt{kfake.BlackholeProduce()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := kafkatest.NewCluster(b, bc.opts...)
			c.CreateTopic(b, "raw.bench", 6)
			p, err := kafka.NewProducer(c.Config(), kafka.ProducerOptions{Linger: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			call := func(i int) error {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				recs := []*kgo.Record{
					{Topic: "raw.bench", Key: fmt.Appendf(nil, "evt-%d-a", i), Value: value},
					{Topic: "raw.bench", Key: fmt.Appendf(nil, "evt-%d-b", i), Value: value},
					{Topic: "raw.bench", Key: fmt.Appendf(nil, "evt-%d-c", i), Value: value},
				}
				return p.ProduceAll(ctx, recs)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if !bc.parallel {
				for i := 0; b.Loop(); i++ {
					if err := call(i); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := call(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
