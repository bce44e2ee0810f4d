package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header names of quarantined records.
const (
	// HeaderFailed is a JSON array of the failed expectations:
	// [{"suite","expectation","column","value"}].
	HeaderFailed = "riacho-quality-failed"
	// HeaderExpectation is repeated once per failed expectation type.
	HeaderExpectation = "riacho-quality-expectation"
	// HeaderReason says why a record could not be checked at all.
	HeaderReason    = "riacho-reason"
	HeaderTopic     = "riacho-topic"
	HeaderPartition = "riacho-partition"
	HeaderOffset    = "riacho-offset"
	HeaderModel     = "riacho-model"
)

// Failure is one failed expectation of a quarantined record.
type Failure struct {
	Suite       string `json:"suite"`
	Expectation string `json:"expectation"`
	Column      string `json:"column,omitempty"`
	Value       any    `json:"value"`
}

// route checks one staging record and returns its curated or quarantine
// record, and its row for the window (nil when it cannot be decoded).
func (r *runner) route(ctx context.Context, rec *kgo.Record) (*kgo.Record, map[string]any, []Failure) {
	base := []kgo.RecordHeader{
		{Key: HeaderModel, Value: []byte(r.t.name)},
		{Key: HeaderTopic, Value: []byte(rec.Topic)},
		{Key: HeaderPartition, Value: []byte(strconv.FormatInt(int64(rec.Partition), 10))},
		{Key: HeaderOffset, Value: []byte(strconv.FormatInt(rec.Offset, 10))},
	}
	out := &kgo.Record{Key: rec.Key, Value: rec.Value, Timestamp: rec.Timestamp, Headers: append(append([]kgo.RecordHeader(nil), rec.Headers...), base...)}
	if rec.Value == nil {
		out.Topic = curatedTopic(r.t.name) // a tombstone passes: it carries no values to check
		return out, nil, nil
	}
	native, _, err := r.serde.Decode(ctx, rec.Value)
	row, ok := plainRecord(native)
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("value is not a record")
		}
		out.Topic = quarantineTopic(r.t.name)
		out.Headers = append(out.Headers, kgo.RecordHeader{Key: HeaderReason, Value: []byte("undecodable: " + err.Error())})
		fails := []Failure{{Expectation: "decode", Value: err.Error()}}
		out.Headers = append(out.Headers, failedHeaders(fails)...)
		return out, nil, fails
	}
	var fails []Failure
	for _, c := range r.t.rows {
		if ok, unexpected := c.exp.Check(row); !ok {
			fails = append(fails, Failure{Suite: c.suite, Expectation: c.exp.Config().Type, Column: c.exp.Column(), Value: jsonValue(unexpected)})
		}
	}
	if len(fails) == 0 {
		out.Topic = curatedTopic(r.t.name)
		return out, row, nil
	}
	out.Topic = quarantineTopic(r.t.name)
	out.Headers = append(out.Headers, failedHeaders(fails)...)
	return out, row, fails
}

func failedHeaders(fails []Failure) []kgo.RecordHeader {
	j, _ := json.Marshal(fails)
	h := []kgo.RecordHeader{{Key: HeaderFailed, Value: j}}
	for _, f := range fails {
		h = append(h, kgo.RecordHeader{Key: HeaderExpectation, Value: []byte(f.Expectation)})
	}
	return h
}

// jsonValue makes an offending value JSON-encodable.
func jsonValue(v any) any {
	if _, err := json.Marshal(v); err != nil {
		return fmt.Sprint(v)
	}
	return v
}
