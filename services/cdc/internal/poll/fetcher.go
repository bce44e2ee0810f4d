package poll

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

// Fetcher reads pages of changed rows from one source. The poller calls its
// methods from one goroutine per entity, so they must be safe for
// concurrent use across entities.
type Fetcher interface {
	// Entities lists the entities (tables) the fetcher captures, by the name
	// Fetch and Describe take.
	Entities() []string
	// Describe returns the entity's table: connector, db, schema, name,
	// columns and key. The poller sets its Source. It is called before the
	// first page of each poll, so a changed SQL table gets a new schema.
	Describe(ctx context.Context, entity string) (*envelope.Table, error)
	// Fetch returns the rows changed at or after from.TS in (change time,
	// key) order, starting after the rows from already covers (see
	// Position), at most about limit rows. An empty page means the entity
	// has caught up.
	Fetch(ctx context.Context, entity string, from Position, limit int) (Page, error)
}

// Closer is implemented by fetchers holding resources (sessions,
// connections); the poller's Close calls it.
type Closer interface {
	Close(ctx context.Context) error
}

// RetryNotifier is implemented by fetchers that retry requests on their own
// (HTTP 401 re-login, 429, 503); poll.New hands them a function counting
// each retry, by reason, in the poller's metrics.
type RetryNotifier interface {
	NotifyRetries(func(reason string))
}

// Position is where a page starts: the rows ordered by (change time, key)
// whose change time is at or after TS, minus those at exactly TS that were
// already read in this pass. A keyset source uses Key (the key values of the
// last row read at exactly TS, nil for none); an offset source uses Skip
// (how many rows at exactly TS were read). Both describe the same rows.
type Position struct {
	TS   time.Time
	Key  []any
	Skip int
}

func (p Position) String() string {
	return fmt.Sprintf("%s+%d", p.TS.UTC().Format(time.RFC3339Nano), p.Skip)
}

// Record is one row read from the source.
type Record struct {
	// Key are the row's key values, in the table's key order, in their Go
	// value forms.
	Key []any
	// TS is the row's change time (the cursor field), in UTC.
	TS time.Time
	// Values is the event's after row: key, cursor and typed columns (and
	// _raw for REST sources).
	Values envelope.Row
	// Err, when set, says the row cannot be emitted (a key or cursor field
	// that does not parse); the poller writes Raw to the dead-letter topic
	// and goes on. Key and TS may then be unset.
	Err error
	// Raw is the source's original payload, for the dead-letter topic.
	Raw []byte
	// Problems are typed fields whose value did not fit their type: they
	// are null in Values (the original stays in _raw); the poller logs and
	// counts them.
	Problems []error
}

// Page is one answer of Fetch.
type Page struct {
	Rows []Record
	// More says the source has rows after this page: the poller asks for
	// the next page at once instead of waiting for the interval.
	More bool
}

// KeyString is the canonical text of key values, used to recognise rows
// already emitted: JSON of the values, with times in RFC 3339 and decimals
// as exact strings.
func KeyString(key []any) string {
	parts := make([]string, len(key))
	for i, k := range key {
		switch v := k.(type) {
		case time.Time:
			parts[i] = `"` + v.UTC().Format(time.RFC3339Nano) + `"`
		case *big.Rat:
			parts[i] = `"` + v.RatString() + `"`
		case []byte:
			b, _ := json.Marshal(string(v))
			parts[i] = string(b)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				b = []byte(fmt.Sprintf("%q", fmt.Sprint(v)))
			}
			parts[i] = string(b)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}
