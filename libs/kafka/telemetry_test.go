package kafka_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

func TestMetricsOnInjectedRegistry(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.metrics", 1)
	reg := prometheus.NewRegistry()
	tel := kafka.Telemetry{Registerer: reg}

	p := newProducer(t, c.Config(), kafka.ProducerOptions{Telemetry: tel})
	// A second client on the same registry must not collide.
	r := newReader(t, c.Config(), kafka.ReaderOptions{Telemetry: tel, Group: "metrics", Topics: []string{"raw.metrics"}})

	if err := p.ProduceAll(testCtx(t, 10*time.Second), records("raw.metrics", 5, "m")); err != nil {
		t.Fatal(err)
	}
	pollN(t, testCtx(t, 10*time.Second), r, 5)

	want := `
# HELP riacho_kafka_produce_records_total Total number of records produced
# TYPE riacho_kafka_produce_records_total counter
riacho_kafka_produce_records_total{client="producer",node_id="0",topic="raw.metrics"} 5
`
	// franz-go runs the metrics hook just after the promises: wait a bit.
	eventually(t, 5*time.Second, func() error {
		return testutil.GatherAndCompare(reg, strings.NewReader(want), "riacho_kafka_produce_records_total")
	})
	eventually(t, 5*time.Second, func() error {
		n, err := testutil.GatherAndCount(reg, "riacho_kafka_fetch_records_total")
		if err == nil && n == 0 {
			err = errors.New("no riacho_kafka_fetch_records_total series")
		}
		return err
	})

	// A second client with the same label is refused, and refusing it
	// leaves the first one's metrics alone.
	if _, err := kafka.NewProducer(c.Config(), kafka.ProducerOptions{Telemetry: tel}); err == nil || !strings.Contains(err.Error(), "MetricsLabel") {
		t.Fatalf("duplicate metrics label: %v", err)
	}
	if n, _ := testutil.GatherAndCount(reg, "riacho_kafka_produce_records_total"); n != 1 {
		t.Fatalf("first producer's metrics gone after a refused duplicate: %d series", n)
	}

	p.Close()
	if n, _ := testutil.GatherAndCount(reg, "riacho_kafka_produce_records_total"); n != 0 {
		t.Fatalf("producer metrics still registered after Close: %d series", n)
	}
}

func TestTraceparentHeader(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.traced", 1)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tel := kafka.Telemetry{TracerProvider: tp}

	ctx, parent := tp.Tracer("test").Start(context.Background(), "webhook")
	p := newProducer(t, c.Config(), kafka.ProducerOptions{Telemetry: tel})
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.ProduceAll(pctx, records("raw.traced", 1, "t")); err != nil {
		t.Fatal(err)
	}
	parent.End()

	got := c.Consume(t, "raw.traced", 1, 10*time.Second)[0]
	var tpHeader string
	for _, h := range got.Headers {
		if h.Key == "traceparent" {
			tpHeader = string(h.Value)
		}
	}
	traceID := parent.SpanContext().TraceID().String()
	if !strings.HasPrefix(tpHeader, "00-"+traceID+"-") {
		t.Fatalf("traceparent header %q does not carry trace %s", tpHeader, traceID)
	}

	r := newReader(t, c.Config(), kafka.ReaderOptions{Telemetry: tel, Group: "traced", Topics: []string{"raw.traced"}})
	rec := pollN(t, testCtx(t, 10*time.Second), r, 1)[0]
	if sc := trace.SpanContextFromContext(rec.Context); sc.TraceID().String() != traceID {
		t.Fatalf("consumed record's span is in trace %s, want %s", sc.TraceID(), traceID)
	}
	kinds := map[trace.SpanKind]bool{}
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID().String() == traceID {
			kinds[s.SpanKind()] = true
		}
	}
	if !kinds[trace.SpanKindProducer] {
		t.Fatalf("no producer span in the trace; span kinds seen: %v", kinds)
	}
}

func TestLoggerReceivesClientLogs(t *testing.T) {
	c := kafkatest.NewCluster(t)
	var buf safeBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := c.Config()
	cfg.SASLMechanism, cfg.SASLUsername, cfg.SASLPassword = kafka.SASLPlain, "nobody", "pw-never-logged"
	p := newProducer(t, cfg, kafka.ProducerOptions{Telemetry: kafka.Telemetry{Logger: log}})
	_ = p.ProduceAll(testCtx(t, 500*time.Millisecond), []*kgo.Record{{Topic: "x", Value: []byte("v")}})
	p.Close()
	out := buf.String()
	if !strings.Contains(out, "component=kafka") {
		t.Fatalf("no client log lines: %q", out)
	}
	if strings.Contains(out, "pw-never-logged") {
		t.Fatalf("log leaks the password: %s", out)
	}
}

// eventually retries check until it passes or d elapses.
func eventually(t testing.TB, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// safeBuffer is a bytes.Buffer safe for the client's goroutines.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
