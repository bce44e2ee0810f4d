package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// The crash test re-executes the test binary as a sink process; these
// variables configure the child.
const (
	childEnv         = "RIACHO_SINK_ENGINE_CHILD"
	childBrokersEnv  = "RIACHO_SINK_ENGINE_CHILD_BROKERS"
	childRegistryEnv = "RIACHO_SINK_ENGINE_CHILD_REGISTRY"
	childLakeEnv     = "RIACHO_SINK_ENGINE_CHILD_LAKE"
	childCatalogEnv  = "RIACHO_SINK_ENGINE_CHILD_CATALOG"
	childInstanceEnv = "RIACHO_SINK_ENGINE_CHILD_INSTANCE"
)

// childMain runs an engine until the process is killed (or gets SIGTERM).
func childMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := runChild(log); err != nil {
		log.Error("child sink", "error", err)
		return 1
	}
	return 0
}

func runChild(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers = strings.Split(os.Getenv(childBrokersEnv), ",")
	kcfg.ClientID = "sink-child"
	rc, err := avro.NewClient(avro.RegistryConfig{URL: os.Getenv(childRegistryEnv), Timeout: 10 * time.Second}, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	store, err := lake.Open(ctx, os.Getenv(childLakeEnv))
	if err != nil {
		return err
	}
	defer store.Close()
	cat, err := table.OpenCatalog(ctx, os.Getenv(childCatalogEnv), store.URL(), store)
	if err != nil {
		return err
	}
	defer cat.Close()
	e, err := New(Config{
		RotateRecords: 700, RotateInterval: 300 * time.Millisecond,
		SessionTimeout: 2 * time.Second, RebalanceTimeout: 5 * time.Second,
		InstanceID: os.Getenv(childInstanceEnv),
	}, Deps{Kafka: kcfg, Registry: rc, Store: store, Catalog: cat, Logger: log})
	if err != nil {
		return err
	}
	return e.Run(ctx)
}

// child is a sink process.
type child struct {
	cmd *exec.Cmd
	out *lockedBuffer
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

func startChild(t *testing.T, h *harness, instance string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		childBrokersEnv+"="+strings.Join(h.kc.Addrs(), ","),
		childRegistryEnv+"="+h.regURL,
		childLakeEnv+"="+h.lakeURL,
		childCatalogEnv+"="+h.catalogURI,
		childInstanceEnv+"="+instance,
	)
	ch := &child{cmd: cmd, out: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = ch.out, ch.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sink process output:\n%s", ch.out.String())
		}
	})
	return ch
}

// kill ends the sink process with SIGKILL: no drain, no commit, no leave.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// TestCrashesLoseAndDuplicateNothing kills the sink process with SIGKILL
// several times while a producer writes, restarts it each time, and checks
// that in the end the lake holds exactly the topic's records, per
// partition by count and checksum, through DuckDB over the files and
// through an Iceberg scan.
func TestCrashesLoseAndDuplicateNothing(t *testing.T) {
	kills := 5
	if testing.Short() {
		kills = 3
	}
	h := newHarness(t, "")
	const topic = "raw.crash.events"
	const parts = 3
	h.createTopic(topic, parts)
	enc := h.encoder(topic, leadSchema)

	pr := h.startProducer(enc, topic, parts, 60, 15*time.Millisecond)
	// A static member: the restarted process gets the partitions back at
	// once, so every kill lands while it reads, writes or commits.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)) //nolint:gosec // kill timing
	c := startChild(t, h, "crash-child")
	for i := 0; i < kills; i++ {
		waitFor(t, 60*time.Second, "the sink process to be assigned its partitions", func() bool {
			return strings.Contains(c.out.String(), "partitions assigned")
		})
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		c.kill(t)
		t.Logf("sink killed with SIGKILL (%d); table offsets then %v", i+1, h.tableOffsets(topic))
		c = startChild(t, h, "crash-child")
	}
	counts := pr.stop(t)
	ends := h.endOffsets(topic)
	h.waitCommitted(topic, ends, 2*time.Minute)
	c.kill(t)

	var total int64
	for p := int32(0); p < parts; p++ {
		total += counts[p]
		if ends[p] != counts[p] {
			t.Fatalf("partition %d has %d records, the producer wrote %d", p, ends[p], counts[p])
		}
	}
	got := duck(t, h.localLake("raw/"), fmt.Sprintf(partitionSums, "raw"))
	if want := expectPartitions(counts); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("duckdb per partition (p, count, distinct, sum) %v, want %v", got, want)
	}
	ctx := context.Background()
	tb, err := h.cat.Table(ctx, "raw_crash", "events", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := tb.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tb.Scan(ctx, d.CurrentSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	perPart := map[int32]map[int64]int{}
	for _, r := range rows {
		p, seq := toInt(r["p"]), toInt(r["seq"])
		if perPart[int32(p)] == nil {
			perPart[int32(p)] = map[int64]int{}
		}
		perPart[int32(p)][seq]++
	}
	for p := int32(0); p < parts; p++ {
		var dups int
		for _, n := range perPart[p] {
			if n > 1 {
				dups++
			}
		}
		if int64(len(perPart[p])) != counts[p] || dups > 0 {
			t.Errorf("iceberg scan partition %d: %d distinct records (%d repeated), want %d", p, len(perPart[p]), dups, counts[p])
		}
	}
	if int64(len(rows)) != total {
		t.Errorf("iceberg scan: %d rows, want %d", len(rows), total)
	}
	t.Logf("%d records in %d files after %d kills", total, d.Files, kills)
}

// toInt reads an integer column value of a scan row.
func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	return n
}
