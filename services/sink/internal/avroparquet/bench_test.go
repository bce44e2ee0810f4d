package avroparquet

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/parquet-go/parquet-go"
)

// messageSchema is a typical raw-zone record: a WhatsApp-like message.
const messageSchema = `{"type":"record","name":"Message","namespace":"raw.whatsapp","fields":[
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

const benchDistinct = 8192

// benchMessages returns distinct messages as goavro decodes them and their Avro binary size.
func benchMessages(b *testing.B) (natives []any, binaries [][]byte) {
	b.Helper()
	codec, err := goavro.NewCodec(messageSchema)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("olá bom dia pedido entregue amanhã obrigado por favor confirmar pagamento boleto pix")
	base := time.Date(2024, 1, 15, 8, 0, 0, 0, time.UTC)
	for i := 0; i < benchDistinct; i++ {
		var body strings.Builder
		for n := 3 + rng.IntN(30); n > 0; n-- {
			body.WriteString(words[rng.IntN(len(words))])
			body.WriteByte(' ')
		}
		labels := []any{}
		for n := rng.IntN(4); n > 0; n-- {
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
		m := map[string]any{
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
		bin, err := codec.BinaryFromNative(nil, m)
		if err != nil {
			b.Fatal(err)
		}
		native, _, err := codec.NativeFromBinary(bin)
		if err != nil {
			b.Fatal(err)
		}
		natives = append(natives, native)
		binaries = append(binaries, bin)
	}
	return natives, binaries
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func avgSize(bins [][]byte) int64 {
	var n int
	for _, b := range bins {
		n += len(b)
	}
	return int64(n / len(bins))
}

const benchBatch = 1024

func report(b *testing.B, out *countingWriter) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(out.n)/float64(b.N), "parquetB/row")
}

// BenchmarkConvertWrite: goavro natives → AppendRow → WriteRows → Snappy Parquet.
// MB/s is of Avro binary input.
func BenchmarkConvertWrite(b *testing.B) {
	natives, bins := benchMessages(b)
	c, err := New(messageSchema, Options{})
	if err != nil {
		b.Fatal(err)
	}
	out := &countingWriter{}
	w, err := c.NewWriter(out, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(avgSize(bins))
	b.ReportAllocs()
	b.ResetTimer()
	rows := make([]parquet.Row, 0, benchBatch)
	for i := 0; i < b.N; i++ {
		if rows, err = c.AppendRow(rows, natives[i%benchDistinct]); err != nil {
			b.Fatal(err)
		}
		if len(rows) == benchBatch {
			if err := w.WriteRows(rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if err := w.WriteRows(rows); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	report(b, out)
}

// BenchmarkWritePrepared is the limit: parquet-go writing the same rows from
// prepared parquet.Rows (no conversion), per compression.
func BenchmarkWritePrepared(b *testing.B) {
	natives, bins := benchMessages(b)
	c, err := New(messageSchema, Options{})
	if err != nil {
		b.Fatal(err)
	}
	prepared := make([]parquet.Row, benchDistinct)
	for i, n := range natives {
		if prepared[i], err = c.ConvertRow(n); err != nil {
			b.Fatal(err)
		}
	}
	for _, compression := range []string{"snappy", "snappy-better", "zstd", "none"} {
		b.Run(compression, func(b *testing.B) {
			out := &countingWriter{}
			w, err := c.NewWriter(out, WriterOptions{Compression: compression})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(avgSize(bins))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += benchBatch {
				start := i % benchDistinct
				n := min(benchBatch, b.N-i)
				if err := w.WriteRows(prepared[start : start+n]); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			report(b, out)
		})
	}
}

// BenchmarkAppendRow is the conversion alone.
func BenchmarkAppendRow(b *testing.B) {
	natives, bins := benchMessages(b)
	c, err := New(messageSchema, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(avgSize(bins))
	b.ReportAllocs()
	b.ResetTimer()
	rows := make([]parquet.Row, 0, benchBatch)
	for i := 0; i < b.N; i++ {
		if rows, err = c.AppendRow(rows, natives[i%benchDistinct]); err != nil {
			b.Fatal(err)
		}
		if len(rows) == benchBatch {
			rows = rows[:0]
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDecodeConvertWrite adds goavro's binary decoding in front: Avro
// bytes → natives → rows → Parquet, what one sink partition does minus Kafka.
func BenchmarkDecodeConvertWrite(b *testing.B) {
	_, bins := benchMessages(b)
	codec, err := goavro.NewCodec(messageSchema)
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(messageSchema, Options{})
	if err != nil {
		b.Fatal(err)
	}
	out := &countingWriter{}
	w, err := c.NewWriter(out, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(avgSize(bins))
	b.ReportAllocs()
	b.ResetTimer()
	rows := make([]parquet.Row, 0, benchBatch)
	for i := 0; i < b.N; i++ {
		native, _, err := codec.NativeFromBinary(bins[i%benchDistinct])
		if err != nil {
			b.Fatal(err)
		}
		if rows, err = c.AppendRow(rows, native); err != nil {
			b.Fatal(err)
		}
		if len(rows) == benchBatch {
			if err := w.WriteRows(rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if err := w.WriteRows(rows); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	report(b, out)
}
