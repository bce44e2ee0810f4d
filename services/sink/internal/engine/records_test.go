package engine

import (
	"context"
	"fmt"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
)

// leadSchema has most Avro shapes: nested record, array, map, nullable
// unions, enum, decimal, date, timestamp-micros and uuid. p and seq say
// which partition and which position a record was produced for.
const leadSchema = `{"type":"record","name":"Lead","namespace":"riacho.test","fields":[
 {"name":"p","type":"int"},
 {"name":"seq","type":"long"},
 {"name":"event_time","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"name","type":"string"},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["OPEN","WON","LOST"]}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"address","type":{"type":"record","name":"Address","fields":[
   {"name":"city","type":"string"},{"name":"zip","type":["null","string"],"default":null}]}},
 {"name":"birthday","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"id","type":{"type":"string","logicalType":"uuid"}}
]}`

// leadSchemaV2 adds a nullable field at the end (a BACKWARD-compatible change).
const leadSchemaV2 = `{"type":"record","name":"Lead","namespace":"riacho.test","fields":[
 {"name":"p","type":"int"},
 {"name":"seq","type":"long"},
 {"name":"event_time","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"name","type":"string"},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["OPEN","WON","LOST"]}},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"address","type":{"type":"record","name":"Address","fields":[
   {"name":"city","type":"string"},{"name":"zip","type":["null","string"],"default":null}]}},
 {"name":"birthday","type":["null",{"type":"int","logicalType":"date"}],"default":null},
 {"name":"id","type":{"type":"string","logicalType":"uuid"}},
 {"name":"score","type":["null","double"],"default":null}
]}`

// day15 and day16 are the two event days the tests spread records over.
var (
	day15 = time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	day16 = time.Date(2024, 1, 16, 0, 0, 0, 0, time.UTC)
)

// leadDay is the event day of record seq: odd ones on the 16th.
func leadDay(seq int64) time.Time {
	if seq%2 == 1 {
		return day16
	}
	return day15
}

// lead is the native value of record seq of partition p.
func lead(p int32, seq int64) map[string]any {
	ev := leadDay(seq).Add(time.Duration(seq%86_000) * time.Second).Add(123 * time.Microsecond)
	var email any
	if seq%3 != 0 {
		email = goavro.Union("string", fmt.Sprintf("lead%d@example.com", seq))
	}
	var birthday any
	if seq%4 == 0 {
		birthday = goavro.Union("int.date", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC))
	}
	return map[string]any{
		"p": p, "seq": seq, "event_time": ev,
		"name":     fmt.Sprintf("Lead %d/%d", p, seq),
		"email":    email,
		"amount":   big.NewRat(seq*100+25, 100),
		"status":   []string{"OPEN", "WON", "LOST"}[seq%3],
		"tags":     []any{"t1", fmt.Sprintf("s%d", seq%5)},
		"attrs":    map[string]any{"k": seq, "x": int64(7)},
		"address":  map[string]any{"city": "Recife", "zip": goavro.Union("string", "50000-000")},
		"birthday": birthday,
		"id":       fmt.Sprintf("00000000-0000-4000-8000-%012d", seq),
	}
}

// leadRecords encodes n records of partition p starting at seq from.
func leadRecords(t testing.TB, enc *avro.Encoder, topic string, p int32, from, n int64) []*kgo.Record {
	t.Helper()
	out, err := encodeLeads(enc, topic, p, from, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func encodeLeads(enc *avro.Encoder, topic string, p int32, from, n int64) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, 0, n)
	for seq := from; seq < from+n; seq++ {
		v, err := enc.Encode(lead(p, seq))
		if err != nil {
			return nil, err
		}
		out = append(out, &kgo.Record{Topic: topic, Partition: p, Key: []byte(fmt.Sprint(seq)), Value: v})
	}
	return out, nil
}

// producer writes batches of leads to every partition of a topic until stopped.
type producer struct {
	counts []atomic.Int64
	stopCh chan struct{}
	done   chan struct{}
	err    error
}

// startProducer writes batch records per partition every pause.
func (h *harness) startProducer(enc *avro.Encoder, topic string, parts int, batch int64, pause time.Duration) *producer {
	pr := &producer{counts: make([]atomic.Int64, parts), stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(pr.done)
		for {
			select {
			case <-pr.stopCh:
				return
			default:
			}
			var recs []*kgo.Record
			for p := range parts {
				rs, err := encodeLeads(enc, topic, int32(p), pr.counts[p].Load(), batch)
				if err != nil {
					pr.err = err
					return
				}
				recs = append(recs, rs...)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := h.prod.ProduceAll(ctx, recs)
			cancel()
			if err != nil {
				pr.err = err
				return
			}
			for p := range parts {
				pr.counts[p].Add(batch)
			}
			time.Sleep(pause)
		}
	}()
	return pr
}

// stop ends the producer and returns how many records it wrote per partition.
func (pr *producer) stop(t testing.TB) map[int32]int64 {
	t.Helper()
	close(pr.stopCh)
	<-pr.done
	if pr.err != nil {
		t.Fatalf("producer: %v", pr.err)
	}
	out := map[int32]int64{}
	for p := range pr.counts {
		out[int32(p)] = pr.counts[p].Load()
	}
	return out
}
