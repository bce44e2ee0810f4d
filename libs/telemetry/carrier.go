package telemetry

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
)

// RecordCarrier adapts a Kafka record's headers to propagation.TextMapCarrier,
// so trace context (the traceparent header) and baggage travel with records.
// Keys are matched case-insensitively; Set replaces existing headers of the key.
type RecordCarrier struct {
	rec *kgo.Record
}

var (
	_ propagation.TextMapCarrier = RecordCarrier{}
	_ propagation.ValuesGetter   = RecordCarrier{}
)

// NewRecordCarrier returns a carrier over rec's headers.
func NewRecordCarrier(rec *kgo.Record) RecordCarrier {
	return RecordCarrier{rec: rec}
}

// Get returns the value of the first header named key, or "".
func (c RecordCarrier) Get(key string) string {
	for _, h := range c.rec.Headers {
		if strings.EqualFold(h.Key, key) {
			return string(h.Value)
		}
	}
	return ""
}

// Values returns the values of every header named key.
func (c RecordCarrier) Values(key string) []string {
	var out []string
	for _, h := range c.rec.Headers {
		if strings.EqualFold(h.Key, key) {
			out = append(out, string(h.Value))
		}
	}
	return out
}

// Set replaces every header named key with one header holding value.
func (c RecordCarrier) Set(key, value string) {
	kept := c.rec.Headers[:0]
	for _, h := range c.rec.Headers {
		if !strings.EqualFold(h.Key, key) {
			kept = append(kept, h)
		}
	}
	c.rec.Headers = append(kept, kgo.RecordHeader{Key: key, Value: []byte(value)})
}

// Keys returns the header keys in record order, without duplicates.
func (c RecordCarrier) Keys() []string {
	out := make([]string, 0, len(c.rec.Headers))
	seen := make(map[string]struct{}, len(c.rec.Headers))
	for _, h := range c.rec.Headers {
		if _, ok := seen[h.Key]; ok {
			continue
		}
		seen[h.Key] = struct{}{}
		out = append(out, h.Key)
	}
	return out
}

// InjectRecord writes the trace context and baggage of ctx into rec's headers.
func InjectRecord(ctx context.Context, prop propagation.TextMapPropagator, rec *kgo.Record) {
	prop.Inject(ctx, NewRecordCarrier(rec))
}

// ExtractRecord returns ctx carrying the trace context and baggage found in rec's headers.
func ExtractRecord(ctx context.Context, prop propagation.TextMapPropagator, rec *kgo.Record) context.Context {
	return prop.Extract(ctx, NewRecordCarrier(rec))
}
