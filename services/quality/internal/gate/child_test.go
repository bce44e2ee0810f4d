package gate

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

const (
	childEnv         = "RIACHO_QUALITY_GATE_CHILD"
	childBrokersEnv  = "RIACHO_QUALITY_GATE_CHILD_BROKERS"
	childRegistryEnv = "RIACHO_QUALITY_GATE_CHILD_REGISTRY"
)

// childMain runs a gate until the process is killed (or gets SIGTERM).
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
	e, err := expect.Compile(seedEmail)
	if err != nil {
		log.Error("compile", "error", err)
		return 1
	}
	cfg := testConfig()
	cfg.InstanceID = "crash-child"
	cfg.Window = 2 * time.Second
	cfg.MaxRecords = 300
	g, err := New(cfg, Deps{Kafka: kcfg, Registry: rc, Logger: log},
		[]*suite.Suite{{Name: "leads_quality", Model: model, File: "test", Expectations: []expect.Expectation{e}}})
	if err != nil {
		log.Error("gate", "error", err)
		return 1
	}
	if err := g.Run(ctx); err != nil {
		log.Error("gate", "error", err)
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

func startChild(t *testing.T, h *harness) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childBrokersEnv+"="+strings.Join(h.kc.Addrs(), ","), childRegistryEnv+"="+h.regURL)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("gate process output:\n%s", out.String())
		}
	})
	return cmd, out
}

// TestCrashesLoseAndDuplicateNothing kills the gate process with SIGKILL
// several times while leads (one in five with a bad e-mail) stream in, and
// checks that every lead ends up exactly once in curated or quarantine (by
// id, count and checksum), each in the right one, and that no window result
// was published twice.
func TestCrashesLoseAndDuplicateNothing(t *testing.T) {
	kills := 5
	if testing.Short() {
		kills = 3
	}
	h := newHarness(t)
	h.kc.CreateTopic(t, stagingTopic(model), 3)
	enc, err := h.serde.Encoder(context.Background(), stagingTopic(model)+"-value", leadSchema)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg       sync.WaitGroup
		produced int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := int64(1); ctx.Err() == nil; {
			recs := make([]*kgo.Record, 0, 30)
			for i := 0; i < 30; i++ {
				email := fmt.Sprintf("lead%d@x.com", id)
				if id%5 == 0 {
					email = fmt.Sprintf("lead%d-at-x", id)
				}
				b, err := enc.Encode(lead(id, email, "Convertido"))
				if err != nil {
					t.Error(err)
					return
				}
				recs = append(recs, &kgo.Record{Topic: stagingTopic(model), Key: []byte(strconv.FormatInt(id, 10)), Value: b})
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
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11)) //nolint:gosec // kill timing
	cmd, out := startChild(t, h)
	for i := 0; i < kills; i++ {
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(out.String(), "quality gate running") {
			if time.Now().After(deadline) {
				t.Fatal("the gate process did not start")
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		t.Logf("gate killed with SIGKILL (%d)", i+1)
		cmd, out = startChild(t, h)
	}
	cancel()
	wg.Wait()
	n := produced
	deadline := time.Now().Add(2 * time.Minute)
	for h.groupLag("riacho-quality."+model) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the gate did not catch up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	seen := map[int64]string{}
	var sum, wantSum int64
	for _, topic := range []string{curatedTopic(model), quarantineTopic(model)} {
		for _, rec := range h.readAllCommitted(topic) {
			id, _ := strconv.ParseInt(string(rec.Key), 10, 64)
			if prev, dup := seen[id]; dup {
				t.Errorf("lead %d routed twice (%s and %s)", id, prev, topic)
			}
			seen[id] = topic
			sum += id
		}
	}
	for id := int64(1); id <= n; id++ {
		wantSum += id
		want := curatedTopic(model)
		if id%5 == 0 {
			want = quarantineTopic(model)
		}
		if seen[id] != want {
			t.Errorf("lead %d went to %q, want %s", id, seen[id], want)
		}
	}
	if int64(len(seen)) != n || sum != wantSum {
		t.Errorf("%d leads routed with id sum %d; want %d with sum %d", len(seen), sum, n, wantSum)
	}
	windows := map[string]int{}
	for _, rec := range h.readAllCommitted("quality.results") {
		var r struct {
			Meta struct {
				Riacho ResultMeta `json:"riacho"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(rec.Value, &r); err != nil {
			t.Fatal(err)
		}
		windows[r.Meta.Riacho.WindowStart.String()]++
		if r.Meta.Riacho.Records == 0 {
			t.Errorf("an empty window result: %+v", r.Meta.Riacho)
		}
	}
	for w, c := range windows {
		if c > 1 {
			t.Errorf("window %s published %d times", w, c)
		}
	}
	t.Logf("%d leads routed exactly once through %d kills; %d window results", n, kills, len(windows))
}
