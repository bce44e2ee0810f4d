package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/riacho/riacho/libs/control"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

const testToken = "riachoctl-test-token-0123456789"

// liveServer is a real libs/control server on 127.0.0.1:0.
type liveServer struct {
	addr  string
	srv   *control.Server
	state *control.State
}

func startServer(t *testing.T) *liveServer {
	t.Helper()
	s := startServerWith(t, "sink", control.Hooks{
		Pause:  func(context.Context, string) error { return nil },
		Resume: func(context.Context) error { return nil },
		Reload: func(context.Context) (string, error) { return "2 models reloaded", nil },
		Status: func(_ context.Context, r *controlv1.StatusResponse) {
			r.Lag = append(r.Lag,
				&controlv1.Lag{Group: "sink", Topic: "raw.crm.deals", Partition: 0, Records: 12},
				&controlv1.Lag{Group: "sink", Topic: "raw.crm.deals", Partition: 1, Records: 30})
		},
		Commands: map[string]control.CommandFunc{
			"replay": func(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
				return &controlv1.CommandResponse{
					Output: "replaying " + args["topic"] + " from offset " + args["offset"],
					Result: map[string]string{"records": "120", "topic": args["topic"]},
				}, nil
			},
		},
	})
	s.state.Counter("records_written").Add(500)
	return s
}

// startServerWith serves a libs/control server for service with hooks.
func startServerWith(t *testing.T, service string, hooks control.Hooks) *liveServer {
	t.Helper()
	st := control.NewState()
	srv, err := control.New(control.Config{
		Addr: "127.0.0.1:0", Tokens: "ops:" + testToken, ShutdownTimeout: 2 * time.Second,
	}, service, "v0.3.0", st, hooks, nil)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	st.Set(controlv1.State_STATE_RUNNING)
	return &liveServer{addr: lis.Addr().String(), srv: srv, state: st}
}

// deadAddr returns a loopback address with nothing listening.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// silentAddr returns a loopback address that accepts TCP but never answers.
func silentAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		for c := range conns {
			_ = c.Close()
		}
	})
	return lis.Addr().String()
}

// invocation is one riachoctl run's outcome.
type invocation struct {
	code           int
	stdout, stderr string
}

// runCLI runs riachoctl with env and endpoints in place of the real ones.
func runCLI(t *testing.T, env map[string]string, eps []Endpoint, args ...string) invocation {
	t.Helper()
	var out, errOut bytes.Buffer
	if eps == nil {
		eps = DevstackEndpoints()
	}
	r := &runner{stdout: &out, stderr: &errOut, getenv: func(k string) string { return env[k] }, endpoints: eps}
	code := r.run(context.Background(), args)
	return invocation{code: code, stdout: out.String(), stderr: errOut.String()}
}

func TestStatusHuman(t *testing.T) {
	s := startServer(t)
	s.state.SetError(errMsg("write parquet: disk full"))
	got := runCLI(t, nil, nil, "--addr", s.addr, "--token", testToken, "status")
	if got.code != ExitOK {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	t.Logf("status output:\n%s", got.stdout)
	for _, want := range []string{
		"service:", "sink", "version:", "v0.3.0", "state:", "RUNNING", "up ",
		"lag (total 42)", "raw.crm.deals", "records_written", "500",
		"last error:", "write parquet: disk full", "commands: replay",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, got.stdout)
		}
	}
}

type errMsg string

func (e errMsg) Error() string { return string(e) }

func TestStatusJSON(t *testing.T) {
	s := startServer(t)
	got := runCLI(t, nil, nil, "status", "--json", "--addr", s.addr, "--token", testToken)
	if got.code != ExitOK {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	var resp controlv1.StatusResponse
	if err := protojson.Unmarshal([]byte(got.stdout), &resp); err != nil {
		t.Fatalf("not protojson: %v\n%s", err, got.stdout)
	}
	if resp.GetService() != "sink" || resp.GetState() != controlv1.State_STATE_RUNNING || len(resp.GetLag()) != 2 {
		t.Fatalf("decoded %v", &resp)
	}
}

func TestPauseStatusResume(t *testing.T) {
	s := startServer(t)
	env := map[string]string{TokenEnv: testToken}
	got := runCLI(t, env, nil, "--addr", s.addr, "pause", "deploying", "v2")
	if got.code != ExitOK || !strings.Contains(got.stdout, "PAUSED") {
		t.Fatalf("pause: exit %d %q %q", got.code, got.stdout, got.stderr)
	}
	got = runCLI(t, env, nil, "--addr", s.addr, "status")
	if got.code != ExitOK || !strings.Contains(got.stdout, "PAUSED") || !strings.Contains(got.stdout, "deploying v2") ||
		!strings.Contains(got.stdout, "paused_by:") {
		t.Fatalf("status after pause: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	got = runCLI(t, env, nil, "--addr", s.addr, "resume")
	if got.code != ExitOK || !strings.Contains(got.stdout, "RUNNING") {
		t.Fatalf("resume: exit %d %q %q", got.code, got.stdout, got.stderr)
	}
	if s.state.Get() != controlv1.State_STATE_RUNNING {
		t.Fatalf("server state %v after resume", s.state.Get())
	}
	got = runCLI(t, env, nil, "--addr", s.addr, "reload")
	if got.code != ExitOK || !strings.Contains(got.stdout, "2 models reloaded") {
		t.Fatalf("reload: exit %d %q %q", got.code, got.stdout, got.stderr)
	}
}

func TestCommandWithArgs(t *testing.T) {
	s := startServer(t)
	got := runCLI(t, nil, nil, "--addr", s.addr, "--token", testToken, "command", "replay", "topic=raw.crm.deals", "offset=1000")
	if got.code != ExitOK {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	if !strings.Contains(got.stdout, "replaying raw.crm.deals from offset 1000") || !strings.Contains(got.stdout, "records:") {
		t.Fatalf("output:\n%s", got.stdout)
	}
	got = runCLI(t, nil, nil, "--json", "--addr", s.addr, "--token", testToken, "command", "replay", "offset=5")
	var resp controlv1.CommandResponse
	if err := protojson.Unmarshal([]byte(got.stdout), &resp); err != nil || resp.GetResult()["records"] != "120" {
		t.Fatalf("json command: %v %v\n%s", err, &resp, got.stdout)
	}
	got = runCLI(t, nil, nil, "--addr", s.addr, "--token", testToken, "command", "explode")
	if got.code != ExitFailed || !strings.Contains(got.stderr, "NotFound") {
		t.Fatalf("unknown verb: exit %d %q", got.code, got.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "missing command"},
		{"no target", []string{"pause"}, "needs --service"},
		{"bad output", []string{"--output", "yaml", "status"}, "--output"},
		{"bad endpoints", []string{"--endpoints", "sink", "status"}, "name=host:port"},
		{"endpoint without port", []string{"--endpoints", "sink=localhost", "status"}, "host:port"},
		{"ca without tls", []string{"--ca", "ca.pem", "status"}, "--tls"},
		{"metrics alone", []string{"metrics"}, "list or query"},
		{"metrics query without metric", []string{"metrics", "query", "grain=month"}, "needs a METRIC"},
		{"metrics filter without operator", []string{"metrics", "query", "mrr", "where=customer_segment Enterprise"}, "no operator"},
		{"metrics bad limit", []string{"metrics", "query", "mrr", "limit=lots"}, "row count"},
		{"metrics bad start", []string{"metrics", "query", "mrr", "start=yesterday"}, "RFC 3339"},
		{"metrics unknown argument", []string{"metrics", "query", "mrr", "colour=blue"}, "unknown argument"},
		{"flush bad argument", []string{"flush", "table"}, "key=value"},
		{"both targets", []string{"--addr", "127.0.0.1:1", "--service", "sink", "status"}, "not both"},
		{"unknown service", []string{"--service", "billing", "status"}, "unknown service"},
		{"unknown command", []string{"--addr", "127.0.0.1:1", "explode"}, "unknown command"},
		{"status with args", []string{"--addr", "127.0.0.1:1", "status", "now"}, "no arguments"},
		{"command without name", []string{"--addr", "127.0.0.1:1", "command"}, "NAME"},
		{"bad key=value", []string{"--addr", "127.0.0.1:1", "command", "replay", "offset"}, "key=value"},
		{"duplicate key", []string{"--addr", "127.0.0.1:1", "command", "replay", "a=1", "a=2"}, "twice"},
		{"unknown flag", []string{"--addr", "127.0.0.1:1", "--verbose", "status"}, "verbose"},
		{"bad timeout", []string{"--addr", "127.0.0.1:1", "--timeout", "0s", "status"}, "timeout"},
		{"all with pause", []string{"--service", "all", "pause"}, "only with status and health"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, nil, nil, tt.args...)
			if got.code != ExitUsage {
				t.Fatalf("exit %d, want %d (stderr %q)", got.code, ExitUsage, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.want) || !strings.Contains(got.stderr, "usage: riachoctl") {
				t.Fatalf("stderr lacks %q or usage:\n%s", tt.want, got.stderr)
			}
			if got.stdout != "" {
				t.Fatalf("stdout not empty: %q", got.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	got := runCLI(t, nil, nil, "-h")
	if got.code != ExitOK || !strings.Contains(got.stdout, "usage: riachoctl") || !strings.Contains(got.stdout, "intake") {
		t.Fatalf("help: exit %d %q", got.code, got.stdout)
	}
}

func TestFailures(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		name     string
		args     []string
		want     string
		maxTaken time.Duration
	}{
		{"refused", []string{"--addr", deadAddr(t), "--timeout", "2s", "status"}, "Unavailable", 3 * time.Second},
		{"silent", []string{"--addr", silentAddr(t), "--timeout", "300ms", "status"}, "DeadlineExceeded", 2 * time.Second},
		{"wrong token", []string{"--addr", s.addr, "--token", "nope-" + testToken, "status"}, "Unauthenticated", 3 * time.Second},
		{"no token", []string{"--addr", s.addr, "pause"}, "Unauthenticated", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := runCLI(t, nil, nil, tt.args...)
			if took := time.Since(start); took > tt.maxTaken {
				t.Fatalf("took %v, more than %v", took, tt.maxTaken)
			}
			if got.code != ExitFailed || !strings.Contains(got.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", got.code, got.stderr, ExitFailed, tt.want)
			}
			if strings.Contains(got.stderr, testToken) {
				t.Fatalf("stderr shows the token: %q", got.stderr)
			}
		})
	}
	if s.state.Get() != controlv1.State_STATE_RUNNING {
		t.Fatal("an unauthenticated pause changed the state")
	}
}

func TestHealth(t *testing.T) {
	s := startServer(t)
	got := runCLI(t, nil, nil, "--addr", s.addr, "health")
	if got.code != ExitOK || strings.TrimSpace(got.stdout) != "SERVING" {
		t.Fatalf("health: exit %d %q %q", got.code, got.stdout, got.stderr)
	}
	s.srv.Health().SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	got = runCLI(t, nil, nil, "--addr", s.addr, "health")
	if got.code != ExitFailed || !strings.Contains(got.stdout, "NOT_SERVING") {
		t.Fatalf("health not serving: exit %d %q %q", got.code, got.stdout, got.stderr)
	}
}

func TestServiceNames(t *testing.T) {
	s := startServer(t)
	eps := []Endpoint{{Name: "sink", Addr: s.addr}, {Name: "cdc", Addr: deadAddr(t)}}
	got := runCLI(t, map[string]string{TokenEnv: testToken}, eps, "--service", "sink", "status")
	if got.code != ExitOK || !strings.Contains(got.stdout, s.addr) {
		t.Fatalf("--service sink: exit %d %q %q", got.code, got.stdout, got.stderr)
	}

	got = runCLI(t, map[string]string{TokenEnv: testToken}, eps, "--service", "all", "--timeout", "2s", "status")
	if got.code != ExitFailed {
		t.Fatalf("--service all with a dead service: exit %d", got.code)
	}
	t.Logf("status all output:\n%s%s", got.stdout, got.stderr)
	lines := strings.Split(strings.TrimSpace(got.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "SERVICE") {
		t.Fatalf("table:\n%s", got.stdout)
	}
	if !strings.HasPrefix(lines[1], "sink") || !strings.Contains(lines[1], "RUNNING") || !strings.Contains(lines[1], "42") {
		t.Fatalf("sink row: %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "cdc") || !strings.Contains(lines[2], "UNREACHABLE") {
		t.Fatalf("cdc row: %q", lines[2])
	}

	got = runCLI(t, map[string]string{TokenEnv: testToken}, eps, "--service", "all", "--json", "status")
	var arr []struct {
		Service  string                 `json:"service"`
		Response json.RawMessage        `json:"response"`
		Error    *struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &arr); err != nil || len(arr) != 2 {
		t.Fatalf("json all: %v\n%s", err, got.stdout)
	}
	var sink controlv1.StatusResponse
	if err := protojson.Unmarshal(arr[0].Response, &sink); err != nil || sink.GetVersion() != "v0.3.0" {
		t.Fatalf("sink entry: %v %v", err, &sink)
	}
	if arr[1].Error == nil || arr[1].Error.Code != "Unavailable" {
		t.Fatalf("cdc entry: %+v", arr[1])
	}

	got = runCLI(t, nil, eps, "--service", "all", "health")
	if got.code != ExitFailed || !strings.Contains(got.stdout, "SERVING") || !strings.Contains(got.stdout, "UNREACHABLE") {
		t.Fatalf("health all: exit %d\n%s", got.code, got.stdout)
	}
}

func TestParseEndpoints(t *testing.T) {
	eps, err := ParseEndpoints(" intake=10.0.0.1:9101, metrics=metrics.riacho.svc:9106 ,")
	if err != nil || len(eps) != 2 || eps[1] != (Endpoint{Name: "metrics", Addr: "metrics.riacho.svc:9106"}) {
		t.Fatalf("ParseEndpoints = %v, %v", eps, err)
	}
	for _, bad := range []string{"", "sink", "sink=", "all=1.2.3.4:5", "sink=a:1,sink=b:2", "sink=nohost"} {
		if _, err := ParseEndpoints(bad); err == nil {
			t.Errorf("ParseEndpoints(%q) accepted", bad)
		}
	}
}

func TestParseQuery(t *testing.T) {
	q, err := parseQuery([]string{"mrr,active_subscriptions", "grain=month", "dimensions=customer_segment",
		"where=customer_segment not in SMB, Mid", "where=mrr >= 10", "where=churned_at is null",
		"order=-month,customer_segment", "limit=20", "start=2024-01-01", "end=2024-12-31T00:00:00Z", "no_cache=true"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := protojson.Marshal(q)
	want := `{"metrics":["mrr","active_subscriptions"],"grain":"month","dimensions":["customer_segment"],` +
		`"filters":[{"field":"customer_segment","operator":"not in","values":["SMB","Mid"]},{"field":"mrr","operator":">=","values":["10"]},` +
		`{"field":"churned_at","operator":"is null"}],"start":"2024-01-01T00:00:00Z","end":"2024-12-31T00:00:00Z",` +
		`"order":[{"field":"month","desc":true},{"field":"customer_segment"}],"limit":20,"noCache":true}`
	var a, b any
	_ = json.Unmarshal(got, &a)
	_ = json.Unmarshal([]byte(want), &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("query\n%s\nwant\n%s", got, want)
	}
	if _, err := parseFilter("segment inside x"); err == nil {
		t.Error(`"inside" was taken for the operator "in"`)
	}
}

// fleet starts live Control servers for a pipeline table.
func fleet(t *testing.T) []Endpoint {
	t.Helper()
	sink := startServer(t)
	quality := startServerWith(t, "quality", control.Hooks{Status: func(_ context.Context, r *controlv1.StatusResponse) {
		r.Freshness = append(r.Freshness,
			&controlv1.Freshness{Scope: "source", Name: "whatsapp", Newest: timestamppb.New(time.Now().Add(-time.Hour)),
				Age: durationpb.New(time.Hour), Sla: durationpb.New(5 * time.Minute), Breached: true},
			&controlv1.Freshness{Scope: "source", Name: "ploomes", Newest: timestamppb.Now(),
				Age: durationpb.New(time.Second), Sla: durationpb.New(15 * time.Minute)})
	}})
	quality.state.Counter("records_curated").Add(90)
	cdc := startServerWith(t, "cdc", control.Hooks{Status: func(_ context.Context, r *controlv1.StatusResponse) {
		r.Details["source.erp.lag_bytes"] = "4096"
	}})
	return []Endpoint{{Name: "cdc", Addr: cdc.addr}, {Name: "sink", Addr: sink.addr}, {Name: "quality", Addr: quality.addr},
		{Name: "metrics", Addr: deadAddr(t)}}
}

func TestPipelineTable(t *testing.T) {
	eps := fleet(t)
	env := map[string]string{TokenEnv: testToken}
	got := runCLI(t, env, eps, "status", "--timeout", "2s")
	t.Logf("pipeline:\n%s%s", got.stdout, got.stderr)
	if got.code != ExitFailed || !strings.Contains(got.stderr, "metrics") || !strings.Contains(got.stderr, "is the service running") {
		t.Fatalf("exit %d with metrics down, stderr %q", got.code, got.stderr)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(got.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = rows[f[0]] + line + "\n"
		}
	}
	for svc, want := range map[string][]string{
		"SERVICE": {"STATE", "LAG", "RATES", "FRESHNESS", "LAST ERROR"},
		"cdc":     {"RUNNING", "4096 B WAL"},
		"sink":    {"RUNNING", " 42 ", "records_written="},
		"quality": {"RUNNING", "records_curated=", "1 BREACHED (whatsapp)", "whatsapp", "5m0s", "ploomes", "15m0s", "ok"},
		"metrics": {"UNREACHABLE", "Unavailable"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[svc], w) {
				t.Errorf("%s rows lack %q:\n%s", svc, w, rows[svc])
			}
		}
	}
	if !strings.Contains(rows["quality"], "BREACHED") {
		t.Errorf("the freshness table does not show the breach:\n%s", got.stdout)
	}

	got = runCLI(t, env, eps, "status", "--output", "json", "--timeout", "2s")
	var arr []struct {
		Service  string          `json:"service"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &arr); err != nil || len(arr) != 4 {
		t.Fatalf("json: %v\n%s", err, got.stdout)
	}
	var q controlv1.StatusResponse
	if err := protojson.Unmarshal(arr[2].Response, &q); err != nil || len(q.GetFreshness()) != 2 || !q.GetFreshness()[0].GetBreached() {
		t.Fatalf("quality json %v: %v", err, &q)
	}
}

func TestShortcutsCallTheirService(t *testing.T) {
	var got sync.Map
	verb := func(name string) control.CommandFunc {
		return func(_ context.Context, args map[string]string) (*controlv1.CommandResponse, error) {
			got.Store(name, args)
			return &controlv1.CommandResponse{Output: name + " done"}, nil
		}
	}
	sink := startServerWith(t, "sink", control.Hooks{Commands: map[string]control.CommandFunc{"flush": verb("flush"), "compact": verb("compact")}})
	cdc := startServerWith(t, "cdc", control.Hooks{Commands: map[string]control.CommandFunc{"snapshot": verb("snapshot")}})
	tr := startServerWith(t, "transform", control.Hooks{Commands: map[string]control.CommandFunc{"replay": verb("replay")}})
	list := "sink=" + sink.addr + ",cdc=" + cdc.addr + ",transform=" + tr.addr
	env := map[string]string{TokenEnv: testToken, EndpointsEnv: list}
	for _, tc := range []struct {
		args []string
		verb string
		want map[string]string
	}{
		{[]string{"flush"}, "flush", map[string]string{}},
		{[]string{"compact", "table=raw_ploomes.deals", "day=2026-11-26"}, "compact", map[string]string{"table": "raw_ploomes.deals", "day": "2026-11-26"}},
		{[]string{"snapshot", "source=erp", "table=demo.faturas"}, "snapshot", map[string]string{"source": "erp", "table": "demo.faturas"}},
		{[]string{"replay", "model=stg_ploomes_leads", "from_offset=0"}, "replay", map[string]string{"model": "stg_ploomes_leads", "from_offset": "0"}},
	} {
		res := runCLI(t, env, nil, tc.args...)
		if res.code != ExitOK || !strings.Contains(res.stdout, tc.verb+" done") {
			t.Fatalf("%v: exit %d %q %q", tc.args, res.code, res.stdout, res.stderr)
		}
		v, ok := got.Load(tc.verb)
		if !ok || !reflect.DeepEqual(v, tc.want) {
			t.Errorf("%v: the service got %v, want %v", tc.args, v, tc.want)
		}
	}
	// A shortcut sent to a service without the verb says so.
	res := runCLI(t, env, nil, "--service", "cdc", "flush")
	if res.code != ExitFailed || !strings.Contains(res.stderr, "flush cdc") || !strings.Contains(res.stderr, "NotFound") {
		t.Fatalf("flush on cdc: exit %d %q", res.code, res.stderr)
	}
}
