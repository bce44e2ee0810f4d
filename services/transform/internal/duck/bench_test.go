package duck

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// leadBodies encodes n leads with goavro: a mix of statuses, a fifth of the
// emails null, a third of the phones null.
func leadBodies(b testing.TB, n int) [][]byte {
	codec := codecOf(b, leadsSchema)
	statuses := []string{"Won", "Lost", "Open", "Negotiation"}
	base := utc("2024-05-01T00:00:00Z")
	bodies := make([][]byte, n)
	for i := range n {
		var email, phone any
		if i%5 != 0 {
			email = fmt.Sprintf("  Lead.%d@Example.COM ", i)
		}
		if i%3 != 0 {
			phone = fmt.Sprintf("+55 11 9%04d-%04d", i%10000, (i*7)%10000)
		}
		created := base.Add(time.Duration(i) * 37 * time.Second)
		bodies[i] = goavroBody(b, codec, lead(int64(i), email, phone, created, statuses[i%len(statuses)]))
	}
	return bodies
}

func BenchmarkDecode(b *testing.B) {
	s := inputSchema(b, leadsSchema, UnwrapAuto)
	bodies := leadBodies(b, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Decode(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDecodeGoavro is the baseline: goavro into map[string]any.
func BenchmarkDecodeGoavro(b *testing.B) {
	codec := codecOf(b, leadsSchema)
	bodies := leadBodies(b, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, err := codec.NativeFromBinary(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRunSeedModel runs the seed model over 10k-row batches: load,
// query, fetch. rows/s counts input rows.
func BenchmarkRunSeedModel(b *testing.B) {
	const batch = 10_000
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			s := inputSchema(b, leadsSchema, UnwrapAuto)
			in := Input{Table: "src__ploomes__leads", Schema: s, Rows: decodeAll(b, s, leadBodies(b, batch)...)}
			e, err := Open(Options{Threads: threads})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			ctx := context.Background()
			var st Stats
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := e.Run(ctx, seedSQL, []Input{in})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Rows) != batch*4/5 {
					b.Fatalf("%d rows", len(res.Rows))
				}
				st.Load += res.Stats.Load
				st.Query += res.Stats.Query
				st.Fetch += res.Stats.Fetch
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(st.Load.Microseconds())/float64(b.N), "load-us/op")
			b.ReportMetric(float64(st.Query.Microseconds())/float64(b.N), "query-us/op")
			b.ReportMetric(float64(st.Fetch.Microseconds())/float64(b.N), "fetch-us/op")
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	cols := []OutputColumn{{"lead_id", "BIGINT"}, {"email", "VARCHAR"}, {"phone", "VARCHAR"},
		{"created_date", "DATE"}, {"status_ptbr", "VARCHAR"}}
	o, err := NewOutputSchema("stg_ploomes_leads", "riacho.staging", cols, nil)
	if err != nil {
		b.Fatal(err)
	}
	row := []any{int64(123456), "lead.123456@example.com", "+55 11 91234-5678", day("2024-05-01"), "Em Andamento"}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = o.Encode(buf[:0], row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkEncodeGoavro is the baseline: goavro from map[string]any.
func BenchmarkEncodeGoavro(b *testing.B) {
	cols := []OutputColumn{{"lead_id", "BIGINT"}, {"email", "VARCHAR"}, {"phone", "VARCHAR"},
		{"created_date", "DATE"}, {"status_ptbr", "VARCHAR"}}
	o, err := NewOutputSchema("stg_ploomes_leads", "riacho.staging", cols, nil)
	if err != nil {
		b.Fatal(err)
	}
	codec := codecOf(b, o.JSON())
	native := map[string]any{"lead_id": goavro.Union("long", int64(123456)),
		"email": goavro.Union("string", "lead.123456@example.com"), "phone": goavro.Union("string", "+55 11 91234-5678"),
		"created_date": goavro.Union("int.date", day("2024-05-01")), "status_ptbr": goavro.Union("string", "Em Andamento")}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = codec.BinaryFromNative(buf[:0], native); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
