package poll

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrUnknownEntity marks a request naming an entity the poller does not capture.
var ErrUnknownEntity = errors.New("poll: unknown entity")

// errPaused ends a poll early when the poller is paused between pages.
var errPaused = errors.New("poll: paused")

// Pause stops polling after the page in progress (its cursor is stored);
// Resume goes on from there.
func (p *Poller) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused = true
		p.resumed = make(chan struct{})
	}
}

// Resume undoes Pause.
func (p *Poller) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.resumed)
	}
}

// Paused says whether the poller is paused.
func (p *Poller) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// waitResumed blocks while the poller is paused; false when ctx ended.
func (p *Poller) waitResumed(ctx context.Context) bool {
	p.mu.Lock()
	if !p.paused {
		p.mu.Unlock()
		return true
	}
	ch := p.resumed
	p.mu.Unlock()
	select {
	case <-ctx.Done():
		return false
	case <-ch:
		return true
	}
}

// Snapshot makes an entity read its source again from the start: its
// cursor is reset and every row is emitted again as op "r" (a re-backfill),
// then polling goes on with updates. entity is the fetcher's entity name
// (any case) or the table's "<schema>.<name>". It returns once the request
// is queued; Status shows the backfill's progress.
func (p *Poller) Snapshot(_ context.Context, entity string) error {
	p.mu.Lock()
	name := ""
	for n, s := range p.status {
		id := strings.TrimPrefix(s.Topic, "raw."+p.source+".")
		if strings.EqualFold(n, entity) || (s.Topic != "" && id == entity) {
			name = n
			break
		}
	}
	if name == "" {
		p.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownEntity, entity)
	}
	p.resnap[name] = true
	p.mu.Unlock()
	p.PollNow(name)
	return nil
}

// takeResnap reports and clears a pending Snapshot request for name.
func (p *Poller) takeResnap(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.resnap[name]
	delete(p.resnap, name)
	return r
}

// Details are the entities' status as flat facts for Control Status,
// keyed "<entity>.<fact>", plus "paused".
func (p *Poller) Details() map[string]string {
	out := map[string]string{"paused": strconv.FormatBool(p.Paused())}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, s := range p.Status() {
		k := s.Entity + "."
		out[k+"topic"] = s.Topic
		out[k+"backfilling"] = strconv.FormatBool(s.Backfilling)
		out[k+"cursor"] = s.Cursor
		out[k+"rows"] = strconv.FormatInt(s.Rows, 10)
		out[k+"last_poll"] = ts(s.LastPoll)
		out[k+"last_success"] = ts(s.LastSuccess)
		out[k+"last_error"] = s.LastError
		out[k+"consecutive_errors"] = strconv.Itoa(s.ConsecutiveErrors)
	}
	return out
}
