package gate

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// BenchmarkGateTenExpectations measures the gate end to end: b.N staging
// leads already on a 3-partition topic are read (read_committed), decoded,
// checked against a 10-expectation suite (8 row-level, 2 set-level), routed
// to curated or quarantine and committed with their offsets in Kafka
// transactions; window results are published as windows close.
//
//	go test ./internal/gate -run '^$' -bench GateTenExpectations -benchtime 200000x
func BenchmarkGateTenExpectations(b *testing.B) {
	h := newHarness(b)
	h.kc.CreateTopic(b, stagingTopic(model), 3)
	enc, err := h.serde.Encoder(context.Background(), stagingTopic(model)+"-value", leadSchema)
	if err != nil {
		b.Fatal(err)
	}
	ts := time.Now()
	for start := 0; start < b.N; start += 20000 {
		var recs []*kgo.Record
		for i := start; i < min(b.N, start+20000); i++ {
			email := fmt.Sprintf("lead%d@exemplo.com.br", i)
			if i%10 == 0 {
				email = fmt.Sprintf("lead%d-at-exemplo", i)
			}
			v, err := enc.Encode(lead(int64(i), email, []string{"Convertido", "Perdido", "Em Andamento"}[i%3]))
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: stagingTopic(model), Key: []byte(strconv.Itoa(i)), Value: v, Timestamp: ts})
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := h.prod.ProduceAll(ctx, recs); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	s := compile(b, "leads_quality", seedEmail,
		expect.Config{Type: "expect_column_values_to_not_be_null", Kwargs: map[string]any{"column": "lead_id"}},
		expect.Config{Type: "expect_column_values_to_not_be_null", Kwargs: map[string]any{"column": "email"}},
		expect.Config{Type: "expect_column_values_to_be_in_set", Kwargs: map[string]any{"column": "status_ptbr", "value_set": []any{"Convertido", "Perdido", "Em Andamento"}}},
		expect.Config{Type: "expect_column_value_lengths_to_be_between", Kwargs: map[string]any{"column": "email", "min_value": 5, "max_value": 120}},
		expect.Config{Type: "expect_column_values_to_be_between", Kwargs: map[string]any{"column": "lead_id", "min_value": 0}},
		expect.Config{Type: "expect_column_values_to_not_match_regex", Kwargs: map[string]any{"column": "email", "regex": "\\s"}},
		expect.Config{Type: "expect_column_values_to_be_of_type", Kwargs: map[string]any{"column": "lead_id", "type_": "int"}},
		expect.Config{Type: "expect_column_values_to_be_unique", Kwargs: map[string]any{"column": "lead_id"}},
		expect.Config{Type: "expect_table_row_count_to_be_between", Kwargs: map[string]any{"min_value": 1}},
	)
	cfg := testConfig()
	b.ResetTimer()
	start := time.Now()
	r := h.start(cfg, s)
	for {
		st := r.g.Status()[0]
		if st.Curated+st.Quarantined >= int64(b.N) {
			break
		}
		if st.State == "failed" {
			b.Fatalf("gate failed: %s", st.LastError)
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/record")
}
