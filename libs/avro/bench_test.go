package avro_test

import (
	"context"
	"testing"

	"github.com/riacho/riacho/libs/avro"
)

// BenchmarkEncode encodes the 10-field Deal record into a reused buffer.
func BenchmarkEncode(b *testing.B) {
	s := newStandIn(b)
	enc, err := avro.NewSerde(newClient(b, s.srv.URL)).Encoder(context.Background(), "deals-value", dealSchema)
	if err != nil {
		b.Fatal(err)
	}
	v := deal()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = enc.AppendEncode(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkDecode decodes the 10-field Deal record (guard included: the
// schema has an array) with its codec cached.
func BenchmarkDecode(b *testing.B) {
	s := newStandIn(b)
	serde := avro.NewSerde(newClient(b, s.srv.URL))
	enc, err := serde.Encoder(context.Background(), "deals-value", dealSchema)
	if err != nil {
		b.Fatal(err)
	}
	wire, err := enc.Encode(deal())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := serde.Decode(ctx, wire); err != nil {
			b.Fatal(err)
		}
	}
}
