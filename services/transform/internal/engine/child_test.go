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
	"github.com/riacho/riacho/services/transform/internal/project"
)

// The crash test re-executes the test binary as a transform process; these
// variables configure the child.
const (
	childEnv         = "RIACHO_TRANSFORM_ENGINE_CHILD"
	childBrokersEnv  = "RIACHO_TRANSFORM_ENGINE_CHILD_BROKERS"
	childRegistryEnv = "RIACHO_TRANSFORM_ENGINE_CHILD_REGISTRY"
	childProjectEnv  = "RIACHO_TRANSFORM_ENGINE_CHILD_PROJECT"
)

// childMain runs an engine until the process is killed (or gets SIGTERM).
func childMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := runChild(log); err != nil {
		log.Error("child transform", "error", err)
		return 1
	}
	return 0
}

func runChild(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers = strings.Split(os.Getenv(childBrokersEnv), ",")
	kcfg.ClientID = "transform-child"
	rc, err := avro.NewClient(avro.RegistryConfig{URL: os.Getenv(childRegistryEnv), Timeout: 10 * time.Second}, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	p, err := project.Load(os.Getenv(childProjectEnv), project.Options{})
	if err != nil {
		return err
	}
	cfg := testConfig()
	cfg.InstanceID = "crash-child"
	e, err := New(cfg, Deps{Kafka: kcfg, Registry: rc, Logger: log}, p)
	if err != nil {
		return err
	}
	return e.Run(ctx)
}

// child is a transform process.
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

func startChild(t *testing.T, h *harness, projectDir string) *child {
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
		childProjectEnv+"="+projectDir,
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
			t.Logf("transform process output:\n%s", ch.out.String())
		}
	})
	return ch
}

// kill ends the transform process with SIGKILL: no drain, no abort, no leave.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// TestCrashesLoseAndDuplicateNothing kills the transform process with
// SIGKILL several times while leads stream in, restarts it each time, and
// checks that the staging topic (read_committed) ends up with exactly one
// output per input lead, by count, key set and checksum. De-duplication is
// off, so only the transactions can keep duplicates out.
func TestCrashesLoseAndDuplicateNothing(t *testing.T) {
	kills := 5
	if testing.Short() {
		kills = 3
	}
	h := newHarness(t)
	const parts = 3
	h.kc.CreateTopic(t, leadsTopic, parts)
	enc := h.encoder(leadsTopic, leadSchema)
	dir := writeProject(t, map[string]string{
		"models/sources.yml":                   seedSources,
		"models/staging/stg_ploomes_leads.sql": seedModel,
		"models/staging/config.yml":            "version: 2\nmodels:\n  - name: stg_ploomes_leads\n    config:\n      unique_key: lead_id\n      riacho: {dedupe_window: 0, max_records: 500, linger: 50ms}\n",
	})
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg       sync.WaitGroup
		produced int64
	)
	wg.Add(1)
	go func() { // 40 leads every 10 ms until stopped
		defer wg.Done()
		for id := int64(1); ctx.Err() == nil; {
			recs := make([]*kgo.Record, 0, 40)
			for i := 0; i < 40; i++ {
				b, err := enc.Encode(lead(id, fmt.Sprintf(" Lead%d@X.com", id), nil, day, "Won"))
				if err != nil {
					t.Error(err)
					return
				}
				recs = append(recs, &kgo.Record{Topic: leadsTopic, Key: []byte(strconv.FormatInt(id, 10)), Value: b})
				id++
			}
			if err := h.prod.ProduceAll(context.Background(), recs); err != nil {
				t.Error(err)
				return
			}
			produced = id - 1
			time.Sleep(10 * time.Millisecond)
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)) //nolint:gosec // kill timing
	c := startChild(t, h, dir)
	for i := 0; i < kills; i++ {
		waitFor(t, 60*time.Second, "the transform process to run its model", func() bool {
			return strings.Contains(c.out.String(), "model running")
		})
		time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
		c.kill(t)
		t.Logf("transform killed with SIGKILL (%d)", i+1)
		c = startChild(t, h, dir)
	}
	cancel()
	wg.Wait()
	n := produced
	waitFor(t, 2*time.Minute, "the model to consume every lead", func() bool {
		return h.groupLag("riacho-transform.stg_ploomes_leads") == 0
	})
	c.kill(t)

	out := h.readAllCommitted("staging.stg_ploomes_leads")
	seen := map[int64]int{}
	var sum, wantSum int64
	for _, rec := range out {
		v := h.decode(rec)
		id := unwrap(v["lead_id"]).(int64)
		seen[id]++
		sum += id
		if email := unwrap(v["email"]); email != fmt.Sprintf("lead%d@x.com", id) {
			t.Errorf("lead %d: email %v", id, email)
		}
	}
	for id := int64(1); id <= n; id++ {
		wantSum += id
		if seen[id] != 1 {
			t.Errorf("lead %d appears %d times in the output", id, seen[id])
		}
	}
	if int64(len(out)) != n || sum != wantSum {
		t.Errorf("output: %d records with id sum %d; want %d records with sum %d", len(out), sum, n, wantSum)
	}
	t.Logf("%d leads through %d kills, exactly once", n, kills)
}

// groupLag is a group's total lag (-1 when it cannot be described).
func (h *harness) groupLag(group string) int64 {
	cl, err := kafka.NewClient(h.kc.Config())
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lags, err := kafka.GroupLag(ctx, kadm.NewClient(cl), group)
	if err != nil || len(lags) == 0 {
		return -1
	}
	var total int64
	for _, l := range lags {
		if l.Committed < 0 {
			return -1
		}
		total += l.Lag
	}
	return total
}

// readAllCommitted reads every committed record of topic, up to its last
// stable offsets.
func (h *harness) readAllCommitted(topic string) []*kgo.Record {
	h.t.Helper()
	cl, err := kafka.NewClient(h.kc.Config())
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		h.t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	rd, err := kafka.NewClient(h.kc.Config(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		h.t.Fatal(err)
	}
	defer rd.Close()
	var out []*kgo.Record
	for len(want) > 0 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			h.t.Fatalf("reading %s: %v (still waiting for %v)", topic, ctx.Err(), want)
		}
		for _, r := range fs.Records() {
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		}
	}
	return out
}
