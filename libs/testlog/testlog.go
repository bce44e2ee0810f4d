// Package testlog routes a component's slog output into the test log, so a failing test
// shows what the component said and a passing one stays quiet.
package testlog

import (
	"log/slog"
	"strings"
	"testing"
)

// New returns a logger writing records at level and above through t.Log.
func New(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(writer{t}, &slog.HandlerOptions{Level: level}))
}

type writer struct{ t testing.TB }

func (w writer) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
