package engine

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/parquet-go/parquet-go"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/sink/internal/avroparquet"
)

// benchMessageSchema is a typical raw-zone record (a WhatsApp-like
// message), the same as avroparquet's benchmarks use.
const benchMessageSchema = `{"type":"record","name":"Message","namespace":"raw.whatsapp","fields":[
 {"name":"message_id","type":{"type":"string","logicalType":"uuid"}},
 {"name":"wa_id","type":"string"},
 {"name":"phone_from","type":"string"},
 {"name":"phone_to","type":"string"},
 {"name":"direction","type":{"type":"enum","name":"Direction","symbols":["INBOUND","OUTBOUND"]}},
 {"name":"kind","type":"string"},
 {"name":"body","type":["null","string"],"default":null},
 {"name":"sent_at","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"status","type":["null","string"],"default":null},
 {"name":"price","type":["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":4}],"default":null},
 {"name":"contact","type":{"type":"record","name":"Contact","fields":[
   {"name":"name","type":"string"},{"name":"profile","type":["null","string"],"default":null}]}},
 {"name":"labels","type":{"type":"array","items":"string"}},
 {"name":"forwarded","type":"boolean"}]}`

// benchMessages returns n distinct messages in goavro's native form.
func benchMessages(n int) []map[string]any {
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // test data
	words := strings.Fields("olá bom dia pedido entregue amanhã obrigado por favor confirmar pagamento boleto pix")
	base := time.Date(2024, 1, 15, 8, 0, 0, 0, time.UTC)
	out := make([]map[string]any, n)
	for i := range out {
		var body strings.Builder
		for k := 3 + rng.IntN(30); k > 0; k-- {
			body.WriteString(words[rng.IntN(len(words))])
			body.WriteByte(' ')
		}
		labels := []any{}
		for k := rng.IntN(4); k > 0; k-- {
			labels = append(labels, fmt.Sprintf("label-%d", rng.IntN(20)))
		}
		dir := "INBOUND"
		if i%3 == 0 {
			dir = "OUTBOUND"
		}
		var price any
		if i%4 == 0 {
			price = goavro.Union("bytes.decimal", big.NewRat(int64(rng.IntN(1000000)), 10000))
		}
		out[i] = map[string]any{
			"message_id": fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()&(1<<48-1)),
			"wa_id":      fmt.Sprintf("wamid.HBgM%020d", rng.Uint64()%1e18),
			"phone_from": fmt.Sprintf("55119%08d", rng.IntN(1e8)),
			"phone_to":   fmt.Sprintf("55219%08d", rng.IntN(1e8)),
			"direction":  dir,
			"kind":       "text",
			"body":       goavro.Union("string", body.String()),
			"sent_at":    base.Add(time.Duration(i) * 1337 * time.Millisecond),
			"status":     goavro.Union("string", []string{"sent", "delivered", "read"}[i%3]),
			"price":      price,
			"contact":    map[string]any{"name": fmt.Sprintf("Cliente %d", rng.IntN(5000)), "profile": nil},
			"labels":     labels,
			"forwarded":  i%10 == 0,
		}
	}
	return out
}

// profileTimedPart writes a CPU profile of the timed part to the file
// named by SINK_BENCH_CPUPROFILE, when set (the -cpuprofile flag would also
// profile the pre-filling).
func profileTimedPart(b *testing.B) (stop func()) {
	path := os.Getenv("SINK_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

type discardCounter struct{ n int64 }

func (d *discardCounter) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// BenchmarkKafkaToParquet measures the sink end to end: a topic pre-filled
// with `records` messages over 4 partitions (200k each: two ranges of the
// default 100k records, so no range waits for the 1-minute rotation), then the time from the
// engine's start until the tables record every partition's end offset
// (fetch, decode, convert, Parquet with Snappy, staged, moved, committed).
// The limit is measured in the same run: parquet-go writing the same
// messages as prepared rows from memory. Run with -benchtime 1x.
func BenchmarkKafkaToParquet(b *testing.B) {
	const records, parts, distinct = 800_000, 4, 8192
	h := newHarness(b, "")
	h.log = nil
	msgs := benchMessages(distinct)
	var inBytes, outBytes int64
	var elapsed time.Duration
	var commitSecs, commits float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		topic := fmt.Sprintf("raw.bench.run%d", i)
		h.createTopic(topic, parts)
		enc := h.encoder(topic, benchMessageSchema)
		var batch []*kgo.Record
		for j := 0; j < records; j++ {
			v, err := enc.Encode(msgs[j%distinct])
			if err != nil {
				b.Fatal(err)
			}
			inBytes += int64(len(v))
			batch = append(batch, &kgo.Record{Topic: topic, Partition: int32(j % parts), Value: v})
			if len(batch) == 20_000 {
				h.produce(batch...)
				batch = batch[:0]
			}
		}
		h.produce(batch...)
		ends := h.endOffsets(topic)
		e := h.engine(Config{
			Topics: "^" + regexp.QuoteMeta(topic) + "$", Group: "bench-" + topic,
			RotateInterval: time.Minute,
		})
		stopProfile := profileTimedPart(b)
		b.StartTimer()
		began := time.Now()
		r := h.start(e)
		h.waitCommitted(topic, ends, 10*time.Minute)
		elapsed += time.Since(began)
		b.StopTimer()
		stopProfile()
		outBytes += e.Status().Bytes
		var m dto.Metric
		if err := e.commitSeconds.Write(&m); err == nil && m.GetHistogram().GetSampleCount() > 0 {
			commitSecs += m.GetHistogram().GetSampleSum()
			commits += float64(m.GetHistogram().GetSampleCount())
		}
		r.stop(b)
	}
	n := float64(records) * float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(inBytes)/1e6/elapsed.Seconds(), "avroMB/s")
	b.ReportMetric(float64(outBytes)/1e6/elapsed.Seconds(), "parquetMB/s")
	if commits > 0 {
		b.ReportMetric(commitSecs/commits*1000, "ms/commit")
	}

	// The limit: the same messages as prepared rows, written from memory.
	conv, err := avroparquet.New(benchMessageSchema, avroparquet.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var rows []parquet.Row
	for _, m := range msgs {
		if rows, err = conv.AppendRow(rows, m); err != nil {
			b.Fatal(err)
		}
	}
	began := time.Now()
	out := &discardCounter{}
	w, err := conv.NewWriter(out, avroparquet.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for written := 0; written < records; {
		chunk := rows[:min(len(rows), records-written)]
		if err := w.WriteRows(chunk); err != nil {
			b.Fatal(err)
		}
		written += len(chunk)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	limit := float64(records) / time.Since(began).Seconds()
	b.ReportMetric(limit, "limit-records/s")
	b.ReportMetric(n/elapsed.Seconds()/limit*100, "%-of-limit")
}
