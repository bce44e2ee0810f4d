package warehouse

import (
	"bytes"
	"context"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

const (
	childEnv         = "RIACHO_WAREHOUSE_LOADER_CHILD"
	childBrokersEnv  = "RIACHO_WAREHOUSE_LOADER_CHILD_BROKERS"
	childRegistryEnv = "RIACHO_WAREHOUSE_LOADER_CHILD_REGISTRY"
	childDSNEnv      = "RIACHO_WAREHOUSE_LOADER_CHILD_DSN"
)

// childMain runs a loader on PostgreSQL until the process is killed.
func childMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers = strings.Split(os.Getenv(childBrokersEnv), ",")
	rc, err := avro.NewClient(avro.RegistryConfig{URL: os.Getenv(childRegistryEnv), Timeout: 10 * time.Second}, nil)
	if err != nil {
		log.Error("registry", "error", err)
		return 1
	}
	defer rc.Close()
	st, err := store.Open(ctx, os.Getenv(childDSNEnv))
	if err != nil {
		log.Error("store", "error", err)
		return 1
	}
	defer st.Close()
	schema, err := ParseSchema("test.yml", []byte(testSchemaYAML))
	if err != nil {
		log.Error("schema", "error", err)
		return 1
	}
	cfg := testLoaderConfig()
	cfg.MaxBatchRecords = 700
	l, err := NewLoader(cfg, st, schema, kcfg, avro.NewSerde(rc), log, nil)
	if err != nil {
		log.Error("loader", "error", err)
		return 1
	}
	if err := l.Run(ctx); err != nil {
		log.Error("loader", "error", err)
		return 1
	}
	return 0
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startChild(t *testing.T, h *harness, dsn string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childBrokersEnv+"="+strings.Join(h.kc.Addrs(), ","),
		childRegistryEnv+"="+h.regURL, childDSNEnv+"="+dsn)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("loader process output:\n%s", out.String())
		}
	})
	return cmd, out
}

// TestSIGKILLLoadsExactlyOnce kills the loader process with SIGKILL several
// times while a transactional producer streams events into three
// partitions of an append-only fact, then checks that the table holds
// exactly one row per produced event (count, ids, amount checksum) and that
// the warehouse's offsets reached the end of every partition.
func TestSIGKILLLoadsExactlyOnce(t *testing.T) {
	kills := 5
	if testing.Short() {
		kills = 3
	}
	h := newHarness(t, 3)
	dsn := pgtest.NewDatabase(t)
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := Migrate(context.Background(), st, h.schema); err != nil {
		t.Fatal(err)
	}
	txp, err := kafka.NewClient(h.kc.Config(), kgo.TransactionalID("sigkill-producer"), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.DefaultProduceTopic("curated.fct_events"))
	if err != nil {
		t.Fatal(err)
	}
	defer txp.Close()
	enc := h.encs["curated.fct_events-value"]
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		produced int64
	)
	const minRecords = 10_000
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := int64(1); ctx.Err() == nil || id <= minRecords; {
			if err := txp.BeginTransaction(); err != nil {
				t.Error(err)
				return
			}
			for range 100 {
				b, err := enc.Encode(event(id, id))
				if err != nil {
					t.Error(err)
					return
				}
				txp.Produce(context.Background(), &kgo.Record{Key: []byte(strconv.FormatInt(id, 10)), Value: b}, nil)
				id++
			}
			if err := txp.Flush(context.Background()); err != nil {
				t.Error(err)
				return
			}
			if err := txp.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			produced = id - 1
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)) //nolint:gosec // kill timing
	cmd, out := startChild(t, h, dsn)
	for i := range kills {
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(out.String(), "partitions assigned") {
			if time.Now().After(deadline) {
				t.Fatal("the loader process did not start")
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		t.Logf("loader killed with SIGKILL (%d)", i+1)
		cmd, out = startChild(t, h, dsn)
	}
	cancel()
	wg.Wait()
	if t.Failed() {
		return
	}
	n := produced
	deadline := time.Now().Add(2 * time.Minute)
	var count int64
	for {
		if err := st.PG.QueryRow(context.Background(), `SELECT count(*) FROM fct_events`).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	var distinct, minID, maxID int64
	var sum string
	if err := st.PG.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT event_id), min(event_id), max(event_id), sum(amount)::text FROM fct_events`).
		Scan(&count, &distinct, &minID, &maxID, &sum); err != nil {
		t.Fatal(err)
	}
	wantSum := new(big.Rat).SetFrac64(n*(n+1)/2, 100).FloatString(2)
	if count != n || distinct != n || minID != 1 || maxID != n || sum != wantSum {
		t.Errorf("fct_events has %d rows (%d distinct ids %d..%d, amount sum %s); want %d rows, ids 1..%d, sum %s",
			count, distinct, minID, maxID, sum, n, n, wantSum)
	}
	ends, err := kadm.NewClient(txp).ListEndOffsets(context.Background(), "curated.fct_events")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		var next int64
		if err := st.PG.QueryRow(context.Background(), `SELECT next_offset FROM riacho_offsets
			WHERE consumer = 'riacho-metrics-loader' AND topic = $1 AND "partition" = $2`, o.Topic, o.Partition).Scan(&next); err != nil {
			t.Errorf("partition %d: %v", o.Partition, err)
			return
		}
		// The end offset counts the last transaction's commit marker.
		if next < o.Offset-1 || next > o.Offset {
			t.Errorf("partition %d: riacho_offsets at %d, end offset %d", o.Partition, next, o.Offset)
		}
	})
	t.Logf("%d events loaded exactly once through %d kills", n, kills)
}
