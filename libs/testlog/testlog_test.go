package testlog

import (
	"log/slog"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what is logged.
type recorder struct {
	testing.TB
	lines []string
}

func (r *recorder) Helper()             {}
func (r *recorder) Log(args ...any)     { r.lines = append(r.lines, args[0].(string)) }
func (r *recorder) Logf(string, ...any) {}

func TestNewFiltersByLevelAndWritesToTheTestLog(t *testing.T) {
	rec := &recorder{TB: t}
	l := New(rec, slog.LevelWarn)
	l.Info("quiet")
	l.Warn("broker down", "addr", "127.0.0.1:9092")
	if len(rec.lines) != 1 || !strings.Contains(rec.lines[0], "broker down") || !strings.Contains(rec.lines[0], "addr=127.0.0.1:9092") {
		t.Fatalf("logged %q, want only the warning with its attributes", rec.lines)
	}
}
