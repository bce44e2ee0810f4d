package pgcdc

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
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
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

// The crash test re-executes the test binary as a capture process; these
// variables configure the child.
const (
	childEnv         = "RIACHO_PGCDC_CHILD"
	childURLEnv      = "RIACHO_PGCDC_CHILD_URL"
	childBrokersEnv  = "RIACHO_PGCDC_CHILD_BROKERS"
	childRegistryEnv = "RIACHO_PGCDC_CHILD_REGISTRY"
	childSlotEnv     = "RIACHO_PGCDC_CHILD_SLOT"
)

// childMain runs a capture until the process is killed (or gets SIGTERM).
func childMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := runChild(log); err != nil {
		log.Error("child capture", "err", err)
		return 1
	}
	return 0
}

func runChild(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers = strings.Split(os.Getenv(childBrokersEnv), ",")
	kcfg.ClientID = "pgcdc-child"
	prod, err := kafka.NewProducer(kcfg, kafka.ProducerOptions{})
	if err != nil {
		return err
	}
	defer prod.Close()
	rc, err := avro.NewClient(avro.RegistryConfig{URL: os.Getenv(childRegistryEnv), Timeout: 10 * time.Second}, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	em := emit.New(prod, avro.NewSerde(rc), emit.Options{Partitions: 1, Logger: log})
	st, err := state.Open(ctx, kcfg, "", log)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := New(Config{
		Source: "bench", URL: os.Getenv(childURLEnv), Slot: os.Getenv(childSlotEnv),
		Include: []string{"public.pgbench_*"}, ChunkSize: 5000,
		Heartbeat: time.Second, StatusInterval: 200 * time.Millisecond,
	}, em, st, log, nil)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

// child is a capture process.
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

func startChild(t *testing.T, h *harness, slot string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		childURLEnv+"="+h.db,
		childBrokersEnv+"="+strings.Join(h.env.Kafka.Addrs(), ","),
		childRegistryEnv+"="+h.env.RegistryURL,
		childSlotEnv+"="+slot,
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
			t.Logf("capture process output:\n%s", ch.out.String())
		}
	})
	return ch
}

// kill ends the capture process with SIGKILL: no drain, no last status.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

func pgbench(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("pgbench"); err != nil {
		t.Fatalf("pgbench not found (apt-get install postgresql-contrib): %v", err)
	}
	cmd := exec.Command("pgbench", append([]string{"-h", "127.0.0.1", "-p", "5432", "-U", "postgres"}, args...)...)
	return cmd
}

// TestCrashDuringPgbenchLosesNothing runs pgbench against its database
// while a capture process streams it, kills the capture with SIGKILL twice
// and restarts it, then checks that the latest record of every key in Kafka
// equals the table, by count and checksum.
func TestCrashDuringPgbenchLosesNothing(t *testing.T) {
	scale, clients, duration, killEvery := "2", "4", 16*time.Second, 4*time.Second
	if testing.Short() {
		scale, duration, killEvery = "1", 7*time.Second, 2*time.Second
	}
	h := newHarness(t)
	if out, err := pgbench(t, "-i", "-q", "-s", scale, h.name).CombinedOutput(); err != nil {
		t.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	slot := "riacho_" + strings.TrimPrefix(h.name, "riacho_test_")
	c := startChild(t, h, slot)
	bench := pgbench(t, "-T", strconv.Itoa(int(duration.Seconds())), "-c", clients, "-j", "2", "-n", h.name)
	var benchOut bytes.Buffer
	bench.Stdout, bench.Stderr = &benchOut, &benchOut
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		time.Sleep(killEvery)
		phase := "during its snapshot"
		if strings.Contains(c.out.String(), "msg=streaming") {
			phase = "while streaming"
		}
		c.kill(t)
		t.Logf("capture process killed with SIGKILL %s (%d)", phase, i+1)
		c = startChild(t, h, slot)
	}
	if err := bench.Wait(); err != nil {
		t.Fatalf("pgbench: %v\n%s", err, benchOut.String())
	}
	// Wait until a snapshot cut short by a kill has been finished by the
	// resumed (incremental) snapshot — it runs beside the stream, so the
	// stream can catch up first — and then until the capture confirmed
	// everything written before that point.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	waitFor(t, 3*time.Minute, "every table's snapshot to be done", func() bool {
		return snapshotsDone(ctx, t, h)
	})
	var target string
	if err := h.conn.QueryRow(ctx, "SELECT pg_logical_emit_message(true, 'test', 'end')::text").Scan(&target); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "the capture to confirm "+target, func() bool {
		var confirmed *string
		err := h.conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&confirmed)
		return err == nil && confirmed != nil && lsnAtLeast(*confirmed, target)
	})
	c.kill(t)

	for _, tc := range []struct{ table, key, value string }{
		{"pgbench_accounts", "aid", "abalance"},
		{"pgbench_tellers", "tid", "tbalance"},
		{"pgbench_branches", "bid", "bbalance"},
	} {
		recs := h.env.ReadAll("raw.bench.public." + tc.table)
		got := map[int32]int32{}
		for _, r := range recs {
			k := r.Key[tc.key].(int32)
			if r.Value == nil || r.Op() == "d" {
				delete(got, k)
				continue
			}
			got[k] = r.After()[tc.value].(int32)
		}
		rows, err := h.conn.Query(ctx, fmt.Sprintf("SELECT %s, %s FROM %s", tc.key, tc.value, tc.table))
		if err != nil {
			t.Fatal(err)
		}
		want := map[int32]int32{}
		for rows.Next() {
			var k, v int32
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			want[k] = v
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		gs, ws := checksum(got), checksum(want)
		if len(got) != len(want) || gs != ws {
			t.Errorf("%s: Kafka has %d keys (checksum %x), the table %d rows (checksum %x)", tc.table, len(got), gs, len(want), ws)
		} else {
			t.Logf("%s: %d records, %d keys, checksum %x matches", tc.table, len(recs), len(got), gs)
		}
	}
	// pgbench_history has no key: every row must be there (replays may repeat some).
	var histRows int
	if err := h.conn.QueryRow(ctx, "SELECT count(*) FROM pgbench_history").Scan(&histRows); err != nil {
		t.Fatal(err)
	}
	if n := len(h.env.ReadAll("raw.bench.public.pgbench_history")); n < histRows || histRows == 0 {
		t.Errorf("pgbench_history: %d records for %d rows", n, histRows)
	} else {
		t.Logf("pgbench_history: %d records for %d rows", n, histRows)
	}
	t.Logf("pgbench: %s", lastLines(benchOut.String(), 3))
}

// checksum hashes a key → value map independently of order.
func checksum(m map[int32]int32) uint64 {
	keys := make([]int32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		fmt.Fprintf(h, "%d=%d;", k, m[k])
	}
	return h.Sum64()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// snapshotsDone reads the capture's state topic afresh and reports whether
// every table's snapshot record says done.
func snapshotsDone(ctx context.Context, t *testing.T, h *harness) bool {
	st, err := state.Open(ctx, h.env.KafkaConfig(), "", nil)
	if err != nil {
		t.Logf("read state: %v", err)
		return false
	}
	defer st.Close()
	n := 0
	for _, k := range st.Keys() {
		if !strings.Contains(k, "/snapshot/") {
			continue
		}
		n++
		var rec snapshotRecord
		if _, err := st.Get(k, &rec); err != nil || rec.State != "done" {
			return false
		}
	}
	return n > 0
}
