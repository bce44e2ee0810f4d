package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/registry"
	"github.com/riacho/riacho/services/devstack/internal/demo"
	"github.com/riacho/riacho/services/devstack/internal/devstack"
)

// order is the order the services start in, upstream first (as devstack
// does). The CDC is not part of the chaos run (see docs/chaos.md).
var order = []string{"intake", "sink", "transform", "quality", "metrics"}

// controlToken is the operator token of every service's Control.
const controlToken = "chaos-operator-token" //nolint:gosec // a test token

// stack is the infrastructure the test process hosts (kfake over TCP and
// the schema registry: never killed) and the services as child processes.
type stack struct {
	dir       string
	kc        *kafkatest.Cluster
	lake      string // the sink's lake directory
	warehouse string // the metrics warehouse's DuckDB file
	intakeURL string
	env       map[string]string // the demo credentials the services use
	svcs      map[string]*service
}

// newStack starts the broker and the registry and prepares (without
// starting) the processes of services.
func newStack(t *testing.T, services []string) *stack {
	t.Helper()
	st := &stack{dir: t.TempDir(), svcs: map[string]*service{}}
	st.kc = kafkatest.NewCluster(t, kfake.BrokerConfigs(map[string]string{
		"group.min.session.timeout.ms": "1000",
	}))
	regURL := startRegistry(t, st.kc.Addrs())
	st.lake = filepath.Join(st.dir, "lake")
	st.warehouse = filepath.Join(st.dir, "warehouse.duckdb")
	st.env = maps.Clone(devstack.DemoEnv)
	common := maps.Clone(st.env)
	maps.Copy(common, map[string]string{
		"RIACHO_KAFKA_BROKERS":       st.kc.Addrs()[0],
		"RIACHO_SCHEMA_REGISTRY_URL": regURL,
		"RIACHO_CONTROL_TOKENS":      "operator:" + controlToken,
		"RIACHO_LOG_LEVEL":           "info",
		"RIACHO_LOG_FORMAT":          "json",
	})
	for _, name := range services {
		env := maps.Clone(common)
		maps.Copy(env, st.serviceEnv(t, name))
		list := make([]string, 0, len(env))
		for _, k := range slices.Sorted(maps.Keys(env)) {
			list = append(list, k+"="+env[k])
		}
		ready := env["RIACHO_"+strings.ToUpper(name)+"_OPS_ADDR"]
		if name == "intake" {
			ready = env["RIACHO_INTAKE_ADDR"]
			st.intakeURL = "http://" + ready
		}
		s := &service{name: name, env: list, ready: "http://" + ready + "/readyz",
			logs: filepath.Join(st.dir, name+".log")}
		st.svcs[name] = s
		t.Cleanup(func() {
			s.kill(t)
			if t.Failed() {
				t.Logf("%s output (%d processes): %s", name, s.starts, s.tail(40))
			}
		})
	}
	return st
}

// serviceEnv is one service's own configuration: addresses, content
// directories, stable instance ids and short intervals.
func (st *stack) serviceEnv(t *testing.T, name string) map[string]string {
	t.Helper()
	env := map[string]string{"RIACHO_CONTROL_ADDR": freeAddr(t)}
	if name != "intake" {
		env["RIACHO_"+strings.ToUpper(name)+"_OPS_ADDR"] = freeAddr(t)
	}
	switch name {
	case "intake":
		env["RIACHO_INTAKE_ADDR"] = freeAddr(t)
		env["RIACHO_INTAKE_TOPIC_PARTITIONS"] = "2"
	case "sink":
		env["RIACHO_SINK_LAKE_URL"] = st.lake
		env["RIACHO_SINK_ROTATE_INTERVAL"] = "1s"
		env["RIACHO_SINK_TOPIC_REFRESH"] = "1s"
		env["RIACHO_SINK_INSTANCE_ID"] = "chaos"
	case "transform":
		env["RIACHO_TRANSFORM_PROJECT"] = must(t)(demo.WriteTransformProject(filepath.Join(st.dir, "transform")))
		env["RIACHO_TRANSFORM_INSTANCE_ID"] = "chaos"
		env["RIACHO_TRANSFORM_OUTPUT_PARTITIONS"] = "1"
		env["RIACHO_TRANSFORM_SESSION_TIMEOUT"] = "6s"
		env["RIACHO_TRANSFORM_REBALANCE_TIMEOUT"] = "10s"
		env["RIACHO_TRANSFORM_TRANSACTION_TIMEOUT"] = "20s"
		env["RIACHO_TRANSFORM_RETRY_BACKOFF"] = "500ms"
		env["RIACHO_TRANSFORM_DUCKDB_THREADS"] = "1"
	case "quality":
		env["RIACHO_QUALITY_SUITES"] = must(t)(demo.WriteQualitySuites(filepath.Join(st.dir, "quality")))
		env["RIACHO_QUALITY_INSTANCE_ID"] = "chaos"
		env["RIACHO_QUALITY_OUTPUT_PARTITIONS"] = "1"
		env["RIACHO_QUALITY_WINDOW"] = "5s"
		env["RIACHO_QUALITY_SESSION_TIMEOUT"] = "6s"
		env["RIACHO_QUALITY_REBALANCE_TIMEOUT"] = "10s"
		env["RIACHO_QUALITY_TRANSACTION_TIMEOUT"] = "20s"
	case "metrics":
		dir := must(t)(demo.WriteMetricsProject(filepath.Join(st.dir, "metrics")))
		env["RIACHO_METRICS_WAREHOUSE"] = "duckdb://" + st.warehouse
		env["RIACHO_METRICS_SCHEMA"] = filepath.Join(dir, "warehouse.yml")
		env["RIACHO_METRICS_DEFINITIONS"] = filepath.Join(dir, "models", "metrics")
		env["RIACHO_METRICS_POLICY"] = filepath.Join(dir, "access.yml")
		env["RIACHO_METRICS_AUDIT_LOG"] = filepath.Join(st.dir, "metrics-audit.log")
		env["RIACHO_METRICS_HTTP_ADDR"] = freeAddr(t)
		env["RIACHO_METRICS_ROLLUP_INTERVAL"] = "10s"
	}
	return env
}

// services returns the services of the stack in start order.
func (st *stack) services() []*service {
	var out []*service
	for _, name := range order {
		if s := st.svcs[name]; s != nil {
			out = append(out, s)
		}
	}
	return out
}

// startAll starts every service, upstream first.
func (st *stack) startAll(t *testing.T) {
	t.Helper()
	for _, s := range st.services() {
		s.start(t, 2*time.Minute)
	}
}

// alive fails t when a service process ended on its own.
func (st *stack) alive(t *testing.T) {
	t.Helper()
	for _, s := range st.services() {
		s.alive(t)
	}
}

// startRegistry serves the embedded schema registry (its store is a topic
// of the broker) on a loopback port and returns its URL.
func startRegistry(t *testing.T, brokers []string) string {
	t.Helper()
	reg, err := registry.New(brokers, registry.DefaultConfig(), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := reg.Start(ctx); err != nil {
		t.Fatalf("start schema registry: %v", err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(func() { srv.Close(); reg.Close() })
	return srv.URL
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// must returns a function that passes a directory through, failing t on
// its error.
func must(t *testing.T) func(string, error) string {
	return func(dir string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
}

// fmtIDs lists the first n of ids for a failure message.
func fmtIDs(ids []string, n int) string {
	slices.Sort(ids)
	if len(ids) > n {
		return fmt.Sprintf("%q and %d more", ids[:n], len(ids)-n)
	}
	return fmt.Sprintf("%q", ids)
}
