package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/riacho/riacho/services/cdc/internal/pgcdc"
	"github.com/riacho/riacho/services/cdc/internal/state"
)

// newCapture builds the capture of one source.
func (s *Service) newCapture(src *Source, st *state.Store) (capture, error) {
	switch {
	case src.Postgres != nil:
		c, err := pgcdc.New(src.Postgres.Config, s.emitter, st, s.log.With("source", src.Name), s.deps.Registry)
		if err != nil {
			return nil, err
		}
		return pgCapture{c}, nil
	default:
		return s.newPoller(src, st)
	}
}

// pgCapture adapts a log-based capture to the service.
type pgCapture struct{ *pgcdc.Capture }

func (p pgCapture) Details() map[string]string {
	st := p.Status()
	d := map[string]string{
		"state":         st.State,
		"slot":          st.Slot,
		"publication":   st.Publication,
		"confirmed_lsn": st.ConfirmedLSN,
		"server_lsn":    st.ServerLSN,
		"lag_bytes":     strconv.FormatInt(st.LagBytes, 10),
		"lag_seconds":   strconv.FormatFloat(st.LagSeconds, 'f', 3, 64),
		"heartbeats":    strconv.FormatInt(st.Heartbeats, 10),
	}
	if st.Error != "" {
		d["error"] = st.Error
	}
	for _, t := range st.Tables {
		prefix := "table." + t.Table + "."
		var ops []string
		for _, op := range []string{"r", "c", "u", "d", "t"} {
			if n := t.Events[op]; n > 0 {
				ops = append(ops, fmt.Sprintf("%s=%d", op, n))
			}
		}
		d[prefix+"events"] = strings.Join(ops, " ")
		if t.Failed {
			d[prefix+"failed"] = t.Error
		}
		if t.DeadLetters > 0 {
			d[prefix+"dead_letters"] = strconv.FormatInt(t.DeadLetters, 10)
		}
		if t.Snapshot.State != "" {
			d[prefix+"snapshot"] = fmt.Sprintf("%s %s rows=%d", t.Snapshot.Mode, t.Snapshot.State, t.Snapshot.Rows)
		}
	}
	return d
}

func (p pgCapture) Snapshot(ctx context.Context, table string) error {
	return p.Capture.Snapshot(ctx, table)
}
