package devstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/devstack/internal/demo"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func testOptions(t *testing.T, dataDir string) Options {
	return Options{
		DataDir:      dataDir,
		DemoInterval: 50 * time.Millisecond,
		KafkaAddr:    freeAddr(t),
		RegistryAddr: freeAddr(t),
		IntakeAddr:   freeAddr(t),
		IntakeCtl:    freeAddr(t),
		CDCCtl:       freeAddr(t),
		CDCOps:       freeAddr(t),
		Sink:         true,
		SinkCtl:      freeAddr(t),
		SinkOps:      freeAddr(t),
		Transform:    true,
		TransformCtl: freeAddr(t),
		TransformOps: freeAddr(t),
		Quality:      true,
		QualityCtl:   freeAddr(t),
		QualityOps:   freeAddr(t),
		MetricsAddr:  freeAddr(t),
		MetricsHTTP:  freeAddr(t),
		MetricsOps:   freeAddr(t),
		DemoPG:       "off",
		LogLevel:     "warn",
	}
}

// endOffsets returns the summed end offsets of topics on the stack's broker.
func endOffsets(t *testing.T, broker string, topics ...string) map[string]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Topic] += o.Offset
		}
	})
	return out
}

func subjects(t *testing.T, registryAddr string) []string {
	t.Helper()
	resp, err := http.Get("http://" + registryAddr + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStackRunsDemoTrafficAndSurvivesRestart starts the whole embedded stack, drives a few
// demo rounds through it, stops it, starts it again over the same data directory and checks
// topics, records and schemas are still there and new traffic is accepted.
func TestStackRunsDemoTrafficAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	logger := slog.New(slog.DiscardHandler)
	st, err := Start(context.Background(), opts, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	if b := st.Banner(); !strings.Contains(b, opts.IntakeAddr) || !strings.Contains(b, opts.KafkaAddr) {
		t.Errorf("banner does not name the endpoints:\n%s", b)
	}
	env := Env(opts, nil)
	dcfg := DemoConfig(opts, env)
	dcfg.Seed = 7
	gen := demo.New(dcfg, logger)
	for i := 0; i < 20; i++ {
		if err := gen.Round(context.Background()); err != nil {
			t.Fatalf("demo round %d: %v", i, err)
		}
	}
	topics := []string{"raw.whatsapp.messages", "raw.ploomes.deals", "raw.meta.leads", "raw.shop.orders", "raw.planilhas.clientes"}
	before := endOffsets(t, opts.KafkaAddr, topics...)
	// 20 rounds: a WhatsApp message every round, Ploomes every 3rd, Meta every 5th, shop
	// every 4th, and the 20-row spreadsheet on round 1.
	want := map[string]int64{"raw.whatsapp.messages": 20, "raw.ploomes.deals": 6, "raw.meta.leads": 4, "raw.shop.orders": 5, "raw.planilhas.clientes": 20}
	for topic, n := range want {
		if before[topic] != n {
			t.Errorf("%s has %d records, want %d", topic, before[topic], n)
		}
	}
	subjBefore := subjects(t, opts.RegistryAddr)
	if err := st.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	st2, err := Start(context.Background(), opts, nil, logger)
	if err != nil {
		t.Fatalf("restart over the same data directory: %v", err)
	}
	defer func() {
		if err := st2.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	after := endOffsets(t, opts.KafkaAddr, topics...)
	for _, topic := range topics {
		if after[topic] != before[topic] {
			t.Errorf("%s: %d records after restart, %d before", topic, after[topic], before[topic])
		}
	}
	// Every subject registered before survives; the restarted services may
	// register more (the gate's curated subject) as they go on.
	got := subjects(t, opts.RegistryAddr)
	for _, subj := range subjBefore {
		if !slices.Contains(got, subj) {
			t.Errorf("subject %s lost in the restart: after %v, before %v", subj, got, subjBefore)
		}
	}
	body := demo.WhatsAppNotification(rand.New(rand.NewPCG(1, 2)), time.Now())
	req, _ := http.NewRequest(http.MethodPost, "http://"+opts.IntakeAddr+"/webhooks/whatsapp", strings.NewReader(string(body)))
	req.Header.Set("X-Hub-Signature-256", demo.Sign(env["RIACHO_WHATSAPP_APP_SECRET"], body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after restart: %s %s", resp.Status, msg)
	}
	if got := endOffsets(t, opts.KafkaAddr, "raw.whatsapp.messages")["raw.whatsapp.messages"]; got != before["raw.whatsapp.messages"]+1 {
		t.Errorf("raw.whatsapp.messages has %d records after one more, want %d", got, before["raw.whatsapp.messages"]+1)
	}
}

func TestMainRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"extra-arg"}, {"--kafka-addr", "nonsense"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			full := append([]string{"--data-dir", t.TempDir()}, args...)
			if err := Main(ctx, full, nil, &out, &errOut); err == nil {
				t.Fatalf("Main(%v) succeeded, want an error", args)
			}
		})
	}
}

func TestEnvPrefersRealVariablesOverDemoValues(t *testing.T) {
	opts := Options{KafkaAddr: "127.0.0.1:1", RegistryAddr: "127.0.0.1:2", IntakeAddr: "127.0.0.1:3", IntakeCtl: "127.0.0.1:4"}
	env := Env(opts, []string{"RIACHO_WHATSAPP_APP_SECRET=real", "RIACHO_META_APP_SECRET="})
	if env["RIACHO_WHATSAPP_APP_SECRET"] != "real" {
		t.Errorf("real secret not used: %q", env["RIACHO_WHATSAPP_APP_SECRET"])
	}
	if env["RIACHO_META_APP_SECRET"] != DemoEnv["RIACHO_META_APP_SECRET"] {
		t.Errorf("empty variable should fall back to the demo value, got %q", env["RIACHO_META_APP_SECRET"])
	}
	if env["RIACHO_KAFKA_BROKERS"] != "127.0.0.1:1" || env["RIACHO_SCHEMA_REGISTRY_URL"] != "http://127.0.0.1:2" {
		t.Errorf("embedded endpoints not wired: %v", env)
	}
}
