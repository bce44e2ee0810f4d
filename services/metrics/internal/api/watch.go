package api

import (
	"context"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/query"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

// NotifyChannel is the PostgreSQL channel the loader notifies on every commit.
const NotifyChannel = "riacho_warehouse"

// Watch keeps the generation and freshness current until ctx ends: on
// PostgreSQL it listens for the loader's commit notifications (so replicas
// without a loader invalidate their caches at once); on both warehouses it
// also re-reads every poll interval, which covers a lost notification.
func (s *Server) Watch(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	if s.opts.Store.Dialect == store.Postgres {
		go s.listen(ctx)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("read warehouse freshness", "err", err)
			}
		}
	}
}

// listen waits for loader notifications, reconnecting after failures.
func (s *Server) listen(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("listen for warehouse commits; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (s *Server) listenOnce(ctx context.Context) error {
	conn, err := s.opts.Store.PG.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	// A commit may have happened before LISTEN took effect.
	if err := s.Refresh(ctx); err != nil {
		return err
	}
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			// Leave the connection unusable for others: it is listening.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			return err
		}
		if err := s.Refresh(ctx); err != nil {
			return err
		}
	}
}

// RefreshRollups rebuilds every declared rollup and marks each fresh at the
// generation it was built at (a commit during the rebuild leaves it stale:
// queries then read the base table until the next rebuild).
func (s *Server) RefreshRollups(ctx context.Context, names []string) error {
	c := s.compiler.Load()
	for _, name := range names {
		if err := s.Refresh(ctx); err != nil {
			return err
		}
		before := s.Generation()
		if err := query.RefreshRollup(ctx, s.opts.Store, c, name); err != nil {
			return err
		}
		if err := s.Refresh(ctx); err != nil {
			return err
		}
		if after := s.Generation(); after == before {
			s.MarkRollup(name, after)
		}
	}
	return nil
}
