package telemetry

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// ErrInvalidLogConfig is returned by NewLogger for an unknown level or format.
var ErrInvalidLogConfig = errors.New("invalid log config")

// NewLogger returns a logger writing to w at the given level ("debug", "info",
// "warn", "error"; "" means info) in the given format ("json" or "text"; ""
// means json). Attributes whose keys look like secrets are redacted (see RedactAttr).
func NewLogger(w io.Writer, level string, format string) (*slog.Logger, error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	f, err := parseFormat(format)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: RedactAttr}
	if f == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// parseLevel maps a level name to a slog.Level.
func parseLevel(level string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%w: level %q (want debug, info, warn or error)", ErrInvalidLogConfig, level)
}

// parseFormat normalises a log format name.
func parseFormat(format string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(format)); f {
	case "", "json":
		return "json", nil
	case "text":
		return f, nil
	}
	return "", fmt.Errorf("%w: format %q (want json or text)", ErrInvalidLogConfig, format)
}
