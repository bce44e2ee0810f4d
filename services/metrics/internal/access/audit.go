package access

import (
	"context"
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
)

// FilterEntry is one filter of an audited query: the field and operator, and
// how many values it compared with. The values themselves are not logged
// because they can be personal data.
type FilterEntry struct {
	Field    string `json:"field"`
	Operator string `json:"operator"`
	Values   int    `json:"values"`
}

// Entry is one audited call.
type Entry struct {
	// Principal is who called; empty when authentication failed.
	Principal Principal
	// Peer is the caller's address; Audit reads it from the context when empty.
	Peer string
	// Method is the RPC (Query, Explain…).
	Method     string
	Metrics    []string
	Dimensions []string
	Filters    []FilterEntry
	Grain      string
	// Rows is the number of rows returned.
	Rows int
	// Cached is true when the answer came from the cache.
	Cached   bool
	Duration time.Duration
	Code     codes.Code
	// Error is the status message sent to the caller, when the call failed.
	Error string
}

// Auditor writes one JSON line per audited call. A nil *Auditor discards.
type Auditor struct {
	log *slog.Logger
}

// NewAuditor writes JSON lines to w (nil w: a nil Auditor, which discards).
// Lines carry time, level (INFO, WARN for failed calls), msg "metrics query",
// client, auth, roles, peer, rpc, metrics, dimensions, filters, grain, rows,
// cached, duration_ms, code and, for failures, error.
func NewAuditor(w io.Writer) *Auditor {
	if w == nil {
		return nil
	}
	return &Auditor{log: slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))}
}

// Audit writes the entry.
func (a *Auditor) Audit(ctx context.Context, e Entry) {
	if a == nil {
		return
	}
	if e.Peer == "" {
		e.Peer = peerAddr(ctx)
	}
	attrs := []slog.Attr{
		slog.String("client", e.Principal.Name),
		slog.String("auth", e.Principal.Method),
		slog.Any("roles", nonNil(e.Principal.Roles)),
		slog.String("peer", e.Peer),
		slog.String("rpc", e.Method),
		slog.Any("metrics", nonNil(e.Metrics)),
		slog.Any("dimensions", nonNil(e.Dimensions)),
		slog.Any("filters", nonNil(e.Filters)),
		slog.String("grain", e.Grain),
		slog.Int("rows", e.Rows),
		slog.Bool("cached", e.Cached),
		slog.Float64("duration_ms", float64(e.Duration.Microseconds())/1000),
		slog.String("code", e.Code.String()),
	}
	level := slog.LevelInfo
	if e.Code != codes.OK {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", e.Error))
	}
	a.log.LogAttrs(ctx, level, "metrics query", attrs...)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// peerAddr returns the remote address of the call, or "".
func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}
