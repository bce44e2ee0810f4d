package poll

import (
	"slices"
	"strings"
	"time"
)

// EntityStatus is what the poller reports about one entity, for the
// service's Control Status.
type EntityStatus struct {
	// Entity is the fetcher's entity name; Topic its topic once prepared.
	Entity, Topic string
	// Backfilling is true until a poll first reached the end of the entity.
	Backfilling bool
	// Cursor is the stored cursor: change time and key of the last row emitted.
	Cursor string
	// CursorTime is the cursor's change time (zero before the first row).
	CursorTime time.Time
	// Rows counts the rows emitted under the stored cursor.
	Rows int64
	// Pages counts the pages fetched since the poller started.
	Pages int64
	// LastPoll is when the last poll started; LastSuccess when a poll last
	// caught up.
	LastPoll, LastSuccess time.Time
	// LastError is the error of the last failed poll, "" once one succeeds.
	LastError string
	// LastErrorAt is when LastError happened.
	LastErrorAt time.Time
	// ConsecutiveErrors counts the failed polls since the last success.
	ConsecutiveErrors int
}

// Status returns every entity's status, sorted by entity.
func (p *Poller) Status() []EntityStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]EntityStatus, 0, len(p.status))
	for _, s := range p.status {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b EntityStatus) int { return strings.Compare(a.Entity, b.Entity) })
	return out
}

// Source is the source name the poller captures.
func (p *Poller) Source() string { return p.source }

func (p *Poller) update(name string, fn func(*EntityStatus)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.status[name]; s != nil {
		fn(s)
	}
}
