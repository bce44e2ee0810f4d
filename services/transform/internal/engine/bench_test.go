package engine

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkSeedModelEndToEnd measures the seed's model end to end: b.N
// leads already on a 3-partition raw topic are read, transformed by DuckDB
// and produced to staging.stg_ploomes_leads in Kafka transactions (offsets
// committed in them), de-duplication on. It reports records/s and, from the
// same run, DuckDB's own share of the time (loading the batch, the query,
// fetching the rows).
//
//	go test ./internal/engine -run '^$' -bench SeedModelEndToEnd -benchtime 200000x
func BenchmarkSeedModelEndToEnd(b *testing.B) {
	h := newHarness(b)
	h.kc.CreateTopic(b, leadsTopic, 3)
	enc := h.encoder(leadsTopic, leadSchema)
	const chunk = 20_000
	for start := 0; start < b.N; start += chunk {
		recs := make([]*kgo.Record, 0, chunk)
		for i := start; i < min(b.N, start+chunk); i++ {
			status := []string{"Won", "Lost", "Open"}[i%3]
			v, err := enc.Encode(lead(int64(i), fmt.Sprintf("  Lead%d@Example.com ", i), "+5511999990000", day, status))
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: leadsTopic, Key: []byte(strconv.Itoa(i)), Value: v})
		}
		h.produceRaw(recs...)
	}
	p := seedProject(b, nil)
	if n, err := strconv.Atoi(os.Getenv("RIACHO_BENCH_MAX_RECORDS")); err == nil {
		p.Models["stg_ploomes_leads"].Config.MaxRecords = n
	}
	cfg := testConfig()
	cfg.DuckDBThreads = 0
	b.ResetTimer()
	start := time.Now()
	r := h.start(cfg, p)
	var st ModelStatus
	for {
		st = r.e.Status(context.Background(), false)[0]
		if st.In >= int64(b.N) {
			break
		}
		if st.State == "failed" {
			b.Fatalf("model failed: %s", st.LastError)
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	r.close()
	if st.Out != int64(b.N) {
		b.Fatalf("%d records out of %d in", st.Out, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(st.DuckDB.Microseconds())/float64(b.N)*1000, "duckdb-ns/record")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "total-ns/record")
	b.ReportMetric(float64(st.Batches), "batches")
}
