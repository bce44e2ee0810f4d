package registry

import (
	"github.com/riacho/riacho/libs/testlog"

	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newCluster starts a one-broker kfake cluster closed at the end of the test.
func newCluster(t testing.TB) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// testLogger writes the registry's logs to the test log.
func testLogger(t testing.TB) *slog.Logger { return testlog.New(t, slog.LevelWarn) }

// testConfig is DefaultConfig with short timeouts.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.StartTimeout = 15 * time.Second
	cfg.WriteTimeout = 5 * time.Second
	return cfg
}

// newRegistry builds and starts a registry over brokers; it is closed at the
// end of the test (Close is idempotent, so tests may close it earlier).
func newRegistry(t testing.TB, brokers []string, cfg Config, reg prometheus.Registerer) *Registry {
	t.Helper()
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	r, err := New(brokers, cfg, testLogger(t), reg)
	if err != nil {
		t.Fatalf("new registry: %v", err)
	}
	t.Cleanup(r.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatalf("start registry: %v", err)
	}
	if !r.Ready() {
		t.Fatal("registry not ready after Start")
	}
	return r
}

// apiClient talks to a registry over real HTTP with a plain http.Client.
type apiClient struct {
	t    testing.TB
	base string
	hc   *http.Client
}

// serve exposes r on an httptest.Server and returns a client for it.
func serve(t testing.TB, r *Registry) *apiClient {
	t.Helper()
	srv := httptest.NewServer(r.Handler())
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &apiClient{t: t, base: srv.URL, hc: &http.Client{Transport: tr, Timeout: 15 * time.Second}}
}

// start is newCluster + newRegistry + serve.
func start(t testing.TB) (*kfake.Cluster, *Registry, *apiClient) {
	t.Helper()
	c := newCluster(t)
	r := newRegistry(t, c.ListenAddrs(), testConfig(), nil)
	return c, r, serve(t, r)
}

// do sends a request; body is sent as is when it is a string or []byte and
// JSON-encoded otherwise.
func (c *apiClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatalf("build request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ContentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// ok sends a request, requires 200 and decodes the answer into out (if not nil).
func (c *apiClient) ok(method, path string, body, out any) {
	c.t.Helper()
	status, b := c.do(method, path, body)
	if status != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, body %s", method, path, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// fail sends a request and requires the given HTTP status and error code.
func (c *apiClient) fail(method, path string, body any, status, code int) Error {
	c.t.Helper()
	got, b := c.do(method, path, body)
	var e Error
	if err := json.Unmarshal(b, &e); err != nil {
		c.t.Fatalf("%s %s: error body %q is not JSON: %v", method, path, b, err)
	}
	if got != status || e.Code != code {
		c.t.Fatalf("%s %s: got status %d code %d (%s), want %d/%d", method, path, got, e.Code, e.Message, status, code)
	}
	if e.Message == "" {
		c.t.Fatalf("%s %s: error without message", method, path)
	}
	return e
}

// register registers schema under subject and returns its id.
func (c *apiClient) register(subject, schema string) int {
	c.t.Helper()
	var out struct {
		ID int `json:"id"`
	}
	c.ok(http.MethodPost, "/subjects/"+subject+"/versions", map[string]string{"schema": schema}, &out)
	if out.ID <= 0 {
		c.t.Fatalf("register %s: id %d", subject, out.ID)
	}
	return out.ID
}

// setLevel sets the compatibility level of subject ("" for global).
func (c *apiClient) setLevel(subject, level string) {
	c.t.Helper()
	path := "/config"
	if subject != "" {
		path += "/" + subject
	}
	var out map[string]string
	c.ok(http.MethodPut, path, map[string]string{"compatibility": level}, &out)
	if out["compatibility"] != level {
		c.t.Fatalf("PUT %s answered %v, want %s", path, out, level)
	}
}

// record schemas shared by the tests.
const (
	userV1 = `{"type":"record","name":"User","namespace":"riacho.test","fields":[
		{"name":"id","type":"long"},{"name":"name","type":"string"}]}`
	userWithEmailDefault = `{"type":"record","name":"User","namespace":"riacho.test","fields":[
		{"name":"id","type":"long"},{"name":"name","type":"string"},
		{"name":"email","type":["null","string"],"default":null}]}`
	userWithAgeNoDefault = `{"type":"record","name":"User","namespace":"riacho.test","fields":[
		{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"age","type":"int"}]}`
	userWithoutName = `{"type":"record","name":"User","namespace":"riacho.test","fields":[
		{"name":"id","type":"long"}]}`
	userNameAsInt = `{"type":"record","name":"User","namespace":"riacho.test","fields":[
		{"name":"id","type":"long"},{"name":"name","type":"int"}]}`
)
