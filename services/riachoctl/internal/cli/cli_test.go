package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

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
	st := control.NewState()
	hooks := control.Hooks{
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
	}
	srv, err := control.New(control.Config{
		Addr: "127.0.0.1:0", Tokens: "ops:" + testToken, ShutdownTimeout: 2 * time.Second,
	}, "sink", "v0.3.0", st, hooks, nil)
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
	st.Counter("records_written").Add(500)
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
		{"no target", []string{"status"}, "--addr"},
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
