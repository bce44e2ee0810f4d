package warehouse

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

const benchRows = 50_000

// benchOrders produces benchRows distinct orders (keyed: COPY into staging,
// then upsert) into three partitions.
func benchOrders(b *testing.B) *harness {
	h := newHarness(b, 3)
	recs := make([]*kgo.Record, 0, benchRows)
	for i := range benchRows {
		id := fmt.Sprintf("o%07d", i)
		recs = append(recs, h.rec("curated.fct_orders-value", "curated.fct_orders", id,
			order(id, big.NewRat(int64(i), 100), t0.Add(time.Duration(i)*time.Second)), t0))
	}
	h.produce(recs...)
	return h
}

// benchLoad loads the topic b.N times into fresh warehouses and reports
// rows/s between the first and the last commit (group join excluded).
func benchLoad(b *testing.B, open func(testing.TB) *store.Store) {
	h := benchOrders(b)
	var total time.Duration
	var rows int64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		st := open(b)
		if err := Migrate(context.Background(), st, h.schema); err != nil {
			b.Fatal(err)
		}
		cfg := LoaderConfig{Consumer: fmt.Sprintf("bench-%d", i), MaxBatchRecords: 5000, Linger: 50 * time.Millisecond}
		l, err := NewLoader(cfg, st, h.schema, h.kc.Config(), h.serde, testlog.New(b, slog.LevelWarn), nil)
		if err != nil {
			b.Fatal(err)
		}
		var (
			mu          sync.Mutex
			first, last time.Time
			firstRows   int64
		)
		done := make(chan struct{})
		l.OnCommit(func(int64, []string) {
			mu.Lock()
			defer mu.Unlock()
			n := l.Status().Rows["fct_orders"]
			if first.IsZero() {
				first, firstRows = time.Now(), n
			}
			last = time.Now()
			if n == benchRows {
				close(done)
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		b.StartTimer()
		go func() { defer close(ran); _ = l.Run(ctx) }()
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatal("load did not finish")
		}
		b.StopTimer()
		cancel()
		<-ran
		mu.Lock()
		total += last.Sub(first)
		rows += benchRows - firstRows
		mu.Unlock()
		st.Close()
	}
	b.ReportMetric(float64(rows)/total.Seconds(), "rows/s")
}

func BenchmarkLoadPostgres(b *testing.B) { benchLoad(b, openPG) }

func BenchmarkLoadDuckDB(b *testing.B) { benchLoad(b, openDuck) }

// BenchmarkRawCopyPostgres is the baseline: pgx CopyFrom of the same rows,
// already converted, in transactions of 5000, without Kafka, Avro or upsert.
func BenchmarkRawCopyPostgres(b *testing.B) {
	s := mustParse(b, testSchemaYAML)
	tab := s.Table("fct_orders")
	rows := make([][]any, benchRows)
	for i := range rows {
		id := fmt.Sprintf("o%07d", i)
		row, err := convertRecord(tab, order(id, big.NewRat(int64(i), 100), t0.Add(time.Duration(i)*time.Second)))
		if err != nil {
			b.Fatal(err)
		}
		rows[i] = pgRows([][]any{row})[0]
	}
	cols := columnNames(tab.Columns)
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st := openPG(b)
		if err := Migrate(context.Background(), st, s); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		b.StartTimer()
		for from := 0; from < len(rows); from += 5000 {
			ctx := context.Background()
			tx, err := st.PG.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"fct_orders"}, cols, pgx.CopyFromRows(rows[from:min(from+5000, len(rows))])); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		total += time.Since(start)
		st.Close()
	}
	b.ReportMetric(float64(b.N*benchRows)/total.Seconds(), "rows/s")
}
