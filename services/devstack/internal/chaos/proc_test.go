package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// service is one riacho service running as a child process: the test
// binary re-executed with serviceEnv naming it. Every start uses the same
// environment, so a restarted process has the data directories, consumer
// groups, instance and transactional ids of the one it replaces.
type service struct {
	name  string
	env   []string
	ready string // URL answering 200 once the service is ready
	logs  string // file the processes' output is appended to

	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// start runs a new process of s and waits until it is ready.
func (s *service) start(t *testing.T, timeout time.Duration) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(s.logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s.starts++
	fmt.Fprintf(out, "=== %s process %d\n", s.name, s.starts)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Env = append(cmd.Env, serviceEnv+"="+s.name)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		t.Fatalf("start %s: %v", s.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = out.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	if err := waitReady(s.ready, exited, timeout); err != nil {
		t.Fatalf("%s (process %d) did not become ready: %v\n%s", s.name, s.starts, err, s.tail(60))
	}
}

// kill ends the process with SIGKILL: no drain, no commit, no leaving the
// consumer group, open transactions left behind.
func (s *service) kill(t *testing.T) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGKILL %s: %v", s.name, err)
	}
	<-s.exited
	s.cmd = nil
}

// stop asks the process to shut down (SIGTERM) and waits for it, killing
// it if it has not ended within timeout.
func (s *service) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(timeout):
		t.Logf("%s did not stop within %s after SIGTERM; killing it", s.name, timeout)
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
	s.cmd = nil
}

// alive fails t when the process ended on its own.
func (s *service) alive(t *testing.T) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	select {
	case <-s.exited:
		t.Fatalf("%s (process %d) exited on its own: %s\n%s", s.name, s.starts, s.cmd.ProcessState, s.tail(60))
	default:
	}
}

// tail returns the last n lines the service's processes wrote.
func (s *service) tail(n int) string {
	b, err := os.ReadFile(s.logs)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprintf("last %d lines of %s:\n%s", len(lines), filepath.Base(s.logs), strings.Join(lines, "\n"))
}

// waitReady polls url until it answers 200, the process exits, or timeout.
func waitReady(url string, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s answered %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("the process exited (last probe: %w)", last)
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s (last probe: %w)", timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
