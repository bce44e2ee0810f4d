package telemetry_test

import (
	"context"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/riacho/riacho/libs/telemetry"
)

func w3c() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

func testSpanContext(t testing.TB) trace.SpanContext {
	t.Helper()
	tid, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	if err != nil {
		t.Fatal(err)
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
}

func TestRecordCarrierRoundTrip(t *testing.T) {
	sc := testSpanContext(t)
	member, err := baggage.NewMember("tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	bag, err := baggage.New(member)
	if err != nil {
		t.Fatal(err)
	}
	ctx := baggage.ContextWithBaggage(trace.ContextWithSpanContext(context.Background(), sc), bag)

	rec := &kgo.Record{Topic: "raw.crm.deals", Headers: []kgo.RecordHeader{{Key: "riacho-source", Value: []byte("ploomes")}}}
	telemetry.InjectRecord(ctx, w3c(), rec)

	if got := telemetry.NewRecordCarrier(rec).Get("traceparent"); got != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Fatalf("traceparent header = %q", got)
	}
	got := telemetry.ExtractRecord(context.Background(), w3c(), rec)
	gotSC := trace.SpanContextFromContext(got)
	if !gotSC.IsRemote() {
		t.Fatal("extracted span context is not marked remote")
	}
	if !gotSC.Equal(sc.WithRemote(true)) {
		t.Fatalf("extracted %v, want %v", gotSC, sc)
	}
	if v := baggage.FromContext(got).Member("tenant").Value(); v != "acme" {
		t.Fatalf("baggage tenant = %q", v)
	}
	if telemetry.NewRecordCarrier(rec).Get("riacho-source") != "ploomes" {
		t.Fatal("existing header lost")
	}
}

func TestRecordCarrierSetReplaces(t *testing.T) {
	rec := &kgo.Record{Headers: []kgo.RecordHeader{
		{Key: "TraceParent", Value: []byte("old-1")},
		{Key: "a", Value: []byte("1")},
		{Key: "traceparent", Value: []byte("old-2")},
	}}
	c := telemetry.NewRecordCarrier(rec)
	if got := c.Values("traceparent"); !slices.Equal(got, []string{"old-1", "old-2"}) {
		t.Fatalf("Values = %v", got)
	}
	c.Set("traceparent", "new")
	if len(rec.Headers) != 2 {
		t.Fatalf("headers = %v, want 2", rec.Headers)
	}
	if got := c.Get("TRACEPARENT"); got != "new" {
		t.Fatalf("Get = %q, want new", got)
	}
	if got := c.Keys(); !slices.Equal(got, []string{"a", "traceparent"}) {
		t.Fatalf("Keys = %v", got)
	}
	if got := c.Get("missing"); got != "" {
		t.Fatalf("Get(missing) = %q", got)
	}
}

func TestExtractRecordWithoutHeaders(t *testing.T) {
	ctx := telemetry.ExtractRecord(context.Background(), w3c(), &kgo.Record{})
	if trace.SpanContextFromContext(ctx).IsValid() {
		t.Fatal("span context appeared from nowhere")
	}
}

func BenchmarkInjectExtractRecord(b *testing.B) {
	ctx := trace.ContextWithSpanContext(context.Background(), testSpanContext(b))
	prop := w3c()
	rec := &kgo.Record{Headers: []kgo.RecordHeader{{Key: "riacho-source", Value: []byte("x")}}}
	b.ReportAllocs()
	for b.Loop() {
		telemetry.InjectRecord(ctx, prop, rec)
		_ = telemetry.ExtractRecord(context.Background(), prop, rec)
	}
}
