package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/libs/testlog"
)

const (
	testWhatsAppSecret = "test_app_secret"
	testVerifyToken    = "verify-me"
	testMetaSecret     = "meta-secret"
	testPloomesKey     = "ploomes-key"
	testShopToken      = "shop-token"
	testShopHMAC       = "shop-hmac"
	testControlToken   = "ctl-token"
)

// harness is an intake served over real HTTP, producing to kfake over TCP, with the
// embedded schema registry: the same parts devstack runs.
type harness struct {
	t       testing.TB
	kafka   *kafkatest.Cluster
	regURL  string
	svc     *Service
	url     string
	serde   *avro.Serde
	cancel  context.CancelFunc
	done    chan error
	metrics *prometheus.Registry
}

func testConfig(t testing.TB, brokers []string, registryURL string) Config {
	t.Helper()
	cfg, err := LoadConfig(context.Background(), []string{
		"RIACHO_INTAKE_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_TOKENS=ops:" + testControlToken,
		"RIACHO_KAFKA_BROKERS=" + brokers[0],
		"RIACHO_SCHEMA_REGISTRY_URL=" + registryURL,
		"RIACHO_WHATSAPP_APP_SECRET=" + testWhatsAppSecret,
		"RIACHO_WHATSAPP_VERIFY_TOKEN=" + testVerifyToken,
		"RIACHO_META_APP_SECRET=" + testMetaSecret,
		"RIACHO_PLOOMES_VALIDATION_KEY=" + testPloomesKey,
		"RIACHO_INTAKE_SOURCE_TOKENS=shop:" + testShopToken + ",planilhas:" + testShopToken,
		"RIACHO_INTAKE_SOURCE_HMAC_SECRETS=shop:" + testShopHMAC,
		"RIACHO_INTAKE_PRODUCE_TIMEOUT=1500ms",
		"RIACHO_INTAKE_RETRY_AFTER=2s",
		"RIACHO_INTAKE_TOPIC_PARTITIONS=1",
		"RIACHO_INTAKE_MAX_BODY_BYTES=65536",
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newHarness(t testing.TB, mutate ...func(*Config)) *harness {
	t.Helper()
	kc := kafkatest.NewCluster(t)
	reg, err := registry.New(kc.Addrs(), registry.DefaultConfig(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	regSrv := httptest.NewServer(reg.Handler())
	t.Cleanup(func() { regSrv.Close(); reg.Close() })

	cfg := testConfig(t, kc.Addrs(), regSrv.URL)
	for _, m := range mutate {
		m(&cfg)
	}
	h := &harness{t: t, kafka: kc, regURL: regSrv.URL, metrics: prometheus.NewRegistry(), done: make(chan error, 1)}
	h.svc, err = New(cfg, Deps{Logger: testlog.New(t, slog.LevelWarn), Registry: h.metrics})
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + h.svc.Addr()
	runCtx, runCancel := context.WithCancel(context.Background())
	h.cancel = runCancel
	go func() { h.done <- h.svc.Run(runCtx) }()
	t.Cleanup(h.stop)
	h.waitReady()

	rc, err := avro.NewClient(avro.RegistryConfig{URL: regSrv.URL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.serde = avro.NewSerde(rc)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("intake Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Error("intake did not stop within 30s")
	}
}

func (h *harness) waitReady() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(h.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatal("intake not ready within 30s")
}

// post sends body with headers and returns the status, headers and decoded JSON answer.
func (h *harness) post(path string, body []byte, headers map[string]string) (int, http.Header, map[string]any) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		out = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, resp.Header, out
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (h *harness) postSigned(path, secret string, body []byte) (int, http.Header, map[string]any) {
	return h.post(path, body, map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body)})
}

// endOffsets sums the end offsets of every partition of topic (0 when it does not exist).
func (h *harness) endOffsets(topic string) int64 {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.kafka.Addrs()...))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		h.t.Fatal(err)
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

// consume reads n records of topic and decodes their values.
func (h *harness) consume(topic string, n int) ([]*kgo.Record, []map[string]any) {
	h.t.Helper()
	recs := h.kafka.Consume(h.t, topic, n, 15*time.Second)
	vals := make([]map[string]any, len(recs))
	for i, r := range recs {
		native, _, err := h.serde.Decode(context.Background(), r.Value)
		if err != nil {
			h.t.Fatalf("decode %s record %d: %v", topic, i, err)
		}
		m, ok := native.(map[string]any)
		if !ok {
			h.t.Fatalf("decoded %s value is %T, want a record", topic, native)
		}
		vals[i] = m
	}
	return recs, vals
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// unwrap returns the value inside a goavro union map, or v itself.
func unwrap(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, inner := range m {
			return inner
		}
	}
	return v
}
