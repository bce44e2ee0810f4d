package polltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Ploomes is the Ploomes API: every request needs the User-Key header,
// entity sets answer {"value": [...]} to OData $filter, $orderby, $top
// (at most 300) and $skip, and requests beyond the rate budget get 429 with
// a Retry-After header.
type Ploomes struct {
	// Server is the test server.
	Server *httptest.Server
	// UserKey is the key the server accepts.
	UserKey string

	mu         sync.Mutex
	sets       map[string]map[int64]map[string]any
	requests   int
	ok         int
	limit      int           // requests allowed per window; 0 = no limit
	window     time.Duration // rate window
	stamps     []time.Time
	retryAfter string
	fail       []int
	queries    []string
	noSkip     bool
}

// NewPloomes starts the API, closed at the end of the test.
func NewPloomes(t testing.TB) *Ploomes {
	p := &Ploomes{UserKey: "integration-key", sets: map[string]map[int64]map[string]any{}, retryAfter: "1"}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Server.Close)
	return p
}

// URL is the API root.
func (p *Ploomes) URL() string { return p.Server.URL }

// SetRateLimit allows n requests per window, answering 429 with
// Retry-After: retryAfter ("" for none) beyond.
func (p *Ploomes) SetRateLimit(n int, window time.Duration, retryAfter string) {
	p.mu.Lock()
	p.limit, p.window, p.retryAfter = n, window, retryAfter
	p.mu.Unlock()
}

// FailNext makes the next requests answer with these statuses, in order
// (429 answers carry Retry-After).
func (p *Ploomes) FailNext(statuses ...int) {
	p.mu.Lock()
	p.fail = append(p.fail, statuses...)
	p.mu.Unlock()
}

// IgnoreSkip makes the server ignore $skip (a broken server, to test that
// the poller notices a page that does not move).
func (p *Ploomes) IgnoreSkip(on bool) { p.mu.Lock(); p.noSkip = on; p.mu.Unlock() }

// Requests is how many requests arrived (any answer).
func (p *Ploomes) Requests() int { p.mu.Lock(); defer p.mu.Unlock(); return p.requests }

// OK is how many requests were answered 200.
func (p *Ploomes) OK() int { p.mu.Lock(); defer p.mu.Unlock(); return p.ok }

// Queries are the raw query strings of the answered requests, in order.
func (p *Ploomes) Queries() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.queries...)
}

// Put inserts or replaces a row of entity set name, keyed by its Id.
func (p *Ploomes) Put(name string, row map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := p.sets[name]
	if set == nil {
		set = map[int64]map[string]any{}
		p.sets[name] = set
	}
	var id int64
	switch v := row["Id"].(type) {
	case int:
		id = int64(v)
	case int64:
		id = v
	case float64:
		id = int64(v)
	default:
		panic(fmt.Sprintf("polltest: Ploomes row without a numeric Id: %v", row))
	}
	cp := make(map[string]any, len(row))
	for k, v := range row {
		cp[k] = v
	}
	set[id] = cp
}

func ploomesError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": strconv.Itoa(status), "message": msg}})
}

func (p *Ploomes) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.requests++
	now := time.Now()
	limited := false
	if p.limit > 0 {
		kept := p.stamps[:0]
		for _, s := range p.stamps {
			if now.Sub(s) < p.window {
				kept = append(kept, s)
			}
		}
		p.stamps = kept
		if len(p.stamps) >= p.limit {
			limited = true
		} else {
			p.stamps = append(p.stamps, now)
		}
	}
	var fail int
	if !limited && len(p.fail) > 0 {
		fail, p.fail = p.fail[0], p.fail[1:]
	}
	retryAfter := p.retryAfter
	p.mu.Unlock()

	if r.Header.Get("User-Key") != p.UserKey {
		ploomesError(w, http.StatusUnauthorized, "Invalid User-Key")
		return
	}
	if limited || fail == http.StatusTooManyRequests {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		ploomesError(w, http.StatusTooManyRequests, "Too many requests")
		return
	}
	if fail != 0 {
		ploomesError(w, fail, "injected failure")
		return
	}
	if r.Method != http.MethodGet {
		ploomesError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	p.mu.Lock()
	set, ok := p.sets[name]
	rows := make([]map[string]any, 0, len(set))
	for _, row := range set {
		rows = append(rows, row)
	}
	noSkip := p.noSkip
	p.mu.Unlock()
	if !ok {
		ploomesError(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI")
		return
	}
	q := r.URL.Query()
	top, skip := 300, 0
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 300 {
			ploomesError(w, http.StatusBadRequest, "$top must be between 0 and 300")
			return
		}
		top = n
	}
	if v := q.Get("$skip"); v != "" && !noSkip {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			ploomesError(w, http.StatusBadRequest, "invalid $skip")
			return
		}
		skip = n
	}
	rows, err := applyQuery(rows, q, "Id")
	if err != nil {
		ploomesError(w, http.StatusBadRequest, err.Error())
		return
	}
	if skip < len(rows) {
		rows = rows[skip:]
	} else {
		rows = rows[:0]
	}
	if len(rows) > top {
		rows = rows[:top]
	}
	p.mu.Lock()
	p.ok++
	p.queries = append(p.queries, r.URL.RawQuery)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"@odata.context": p.Server.URL + "/$metadata#" + name,
		"value":          rows,
	})
}
