package engine

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
)

// OutputRecord is one committed output record, decoded.
type OutputRecord struct {
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       string
	// Value has the row's columns as plain values: unions unwrapped, times
	// as RFC 3339 text, decimals as exact text.
	Value map[string]any
}

// Tail returns the newest n committed records of model's output topic
// (read_committed), oldest first.
func (e *Engine) Tail(ctx context.Context, model string, n int) ([]OutputRecord, error) {
	r, err := e.runner(model)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	adm := kadm.NewClient(e.admin)
	topic := r.m.OutputTopic
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		if ends, err = adm.ListCommittedOffsets(ctx, topic); err == nil {
			err = ends.Error()
		}
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return nil, nil // the engine creates it on start
	}
	if err != nil {
		return nil, fmt.Errorf("tail %s: list offsets: %w", topic, err)
	}
	from := map[int32]kgo.Offset{}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(topic, o.Partition)
		if o.Offset <= s.Offset {
			return
		}
		// Transaction markers take offsets too: reading back 2n offsets
		// finds n records unless batches were single records.
		from[o.Partition] = kgo.NewOffset().At(max(s.Offset, o.Offset-int64(2*n)))
		want[o.Partition] = o.Offset
	})
	if len(want) == 0 {
		return nil, nil
	}
	cl, err := kafka.NewClient(e.deps.Kafka, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	serde := avro.NewSerde(e.deps.Registry)
	var out []OutputRecord
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ferr error
		fs.EachError(func(_ string, p int32, err error) { ferr = errors.Join(ferr, fmt.Errorf("partition %d: %w", p, err)) })
		if ferr != nil {
			return nil, fmt.Errorf("tail %s: %w", topic, ferr)
		}
		for _, rec := range fs.Records() {
			if end, ok := want[rec.Partition]; ok && rec.Offset+1 >= end {
				delete(want, rec.Partition)
			}
			if rec.Attrs.IsControl() || rec.Value == nil {
				continue
			}
			native, _, err := serde.Decode(ctx, rec.Value)
			if err != nil {
				return nil, fmt.Errorf("tail %s: decode %d@%d: %w", topic, rec.Partition, rec.Offset, err)
			}
			v, _ := plain(native).(map[string]any)
			out = append(out, OutputRecord{Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp.UTC(), Key: string(rec.Key), Value: v})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp.Before(out[j].Timestamp) })
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

// plain turns a goavro native value into plain JSON-friendly values.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 { // a union branch, unless a record of one field
			for k, inner := range x {
				if t, ok := inner.(time.Time); ok && k == "int.date" {
					return t.UTC().Format(time.DateOnly)
				}
				if isAvroTypeName(k) {
					return plain(inner)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, inner := range x {
			out[k] = plain(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = plain(inner)
		}
		return out
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case *big.Rat:
		return x.FloatString(ratScale(x))
	default:
		return v
	}
}

// ratScale is the number of decimals that shows r exactly (at most 38).
func ratScale(r *big.Rat) int {
	p := big.NewInt(1)
	ten := big.NewInt(10)
	for s := 0; s < 38; s++ {
		if new(big.Int).Mod(p, r.Denom()).Sign() == 0 {
			return s
		}
		p.Mul(p, ten)
	}
	return 38
}

func isAvroTypeName(k string) bool {
	switch k {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string",
		"int.date", "long.timestamp-micros", "long.timestamp-millis", "long.local-timestamp-micros",
		"long.local-timestamp-millis", "long.time-micros", "int.time-millis", "bytes.decimal", "string.uuid", "fixed.decimal":
		return true
	}
	return false
}
