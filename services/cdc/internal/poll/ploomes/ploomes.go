// Package ploomes reads changed rows of Ploomes CRM entities for the cursor
// poller.
//
// Every request carries the integration user's key in the User-Key header
// and waits for a token of a client-side rate budget (default 120
// requests/min, the account's limit, which all integrations share). A 429
// answer is retried after its Retry-After (seconds or an HTTP date), or
// after an exponential backoff when it has none; 502, 503 and 504 likewise.
//
// Changed rows are selected with
//
//	$filter=LastUpdateDate ge <position, RFC 3339 with offset>&$orderby=LastUpdateDate,Id&$top=N&$skip=M
//
// The filter is inclusive (ge, not gt): rows at exactly the position's time
// that the poller already read are skipped with $skip, and rows re-read in
// the overlap window are dropped by the poller by key. With gt, rows sharing
// the last timestamp of a page would be lost. Id breaks ties so $skip always
// counts the same rows. Deletes are invisible to polling (Ploomes' Delete
// webhooks carry them, through the intake).
package ploomes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/riacho/riacho/services/cdc/internal/envelope"
	"github.com/riacho/riacho/services/cdc/internal/poll"
)

// Connector is the envelope's connector name for Ploomes tables.
const Connector = "ploomes"

// maxBody bounds one response body.
const maxBody = 64 << 20

// ErrUnauthorized marks a User-Key the API refused.
var ErrUnauthorized = errors.New("ploomes: user key refused")

// HTTPError is an API answer other than 200.
type HTTPError struct {
	Status  int
	Message string
	URL     string // without the query
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("ploomes: %s: HTTP %d: %s", e.URL, e.Status, e.Message)
}

// Options are the Fetcher's dependencies.
type Options struct {
	// HTTPClient, when set, is used as is; nil builds one with cfg.Timeout.
	HTTPClient *http.Client
	// UserKey, when set, is used instead of reading cfg.UserKeyEnv.
	UserKey string
	// Logger receives retry messages; nil discards them.
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait before retrying an answer
	// without Retry-After (defaults 1s and 1m); Retry-After is capped by
	// MaxBackoff too.
	MinBackoff, MaxBackoff time.Duration
}

// Fetcher is a poll.Fetcher over the Ploomes API.
type Fetcher struct {
	cfg      poll.PloomesConfig
	base     *url.URL
	hc       *http.Client
	ownHC    bool
	key      string
	loc      *time.Location
	log      *slog.Logger
	limiter  *rate.Limiter
	min, max time.Duration
	names    []string
	entities map[string]*poll.JSONEntity
	updated  map[string]string

	mu      sync.Mutex
	onRetry func(string)
}

// New checks cfg (after cfg.Defaults) and prepares a Fetcher.
func New(cfg poll.PloomesConfig, opts Options) (*Fetcher, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ploomes config: %w", err)
	}
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ploomes config: url: %w", err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	loc, err := poll.ParseOffset(cfg.TimezoneOffset)
	if err != nil {
		return nil, fmt.Errorf("ploomes config: timezone_offset: %w", err)
	}
	f := &Fetcher{
		cfg: cfg, base: base, hc: opts.HTTPClient, key: opts.UserKey, loc: loc, log: opts.Logger,
		limiter: rate.NewLimiter(rate.Every(time.Minute/time.Duration(cfg.RatePerMinute)), 1),
		min:     opts.MinBackoff, max: opts.MaxBackoff,
		entities: map[string]*poll.JSONEntity{}, updated: map[string]string{},
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.min <= 0 {
		f.min = time.Second
	}
	if f.max <= 0 {
		f.max = time.Minute
	}
	if f.key == "" {
		if f.key, err = cfg.UserKey(); err != nil {
			return nil, fmt.Errorf("ploomes config: %w", err)
		}
	}
	if f.hc == nil {
		f.hc = &http.Client{Timeout: cfg.Timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
		f.ownHC = true
	}
	for _, e := range cfg.Entities {
		cursor := []poll.FieldConfig{{Name: e.UpdatedAt, Type: "timestamp"}}
		je, err := poll.NewJSONEntity(e, cursor, loc, Connector, "", cfg.Schema)
		if err != nil {
			return nil, fmt.Errorf("ploomes config: %w", err)
		}
		f.names = append(f.names, e.Name)
		f.entities[e.Name] = je
		f.updated[e.Name] = e.UpdatedAt
	}
	return f, nil
}

// Entities implements poll.Fetcher.
func (f *Fetcher) Entities() []string { return append([]string(nil), f.names...) }

// Describe implements poll.Fetcher.
func (f *Fetcher) Describe(_ context.Context, name string) (*envelope.Table, error) {
	e, ok := f.entities[name]
	if !ok {
		return nil, fmt.Errorf("ploomes: unknown entity %q", name)
	}
	return e.Table(), nil
}

// NotifyRetries implements poll.RetryNotifier: fn is called with "429" or
// "5xx" for each retried request.
func (f *Fetcher) NotifyRetries(fn func(reason string)) {
	f.mu.Lock()
	f.onRetry = fn
	f.mu.Unlock()
}

func (f *Fetcher) retried(reason string) {
	f.mu.Lock()
	fn := f.onRetry
	f.mu.Unlock()
	if fn != nil {
		fn(reason)
	}
}

// Close implements poll.Closer.
func (f *Fetcher) Close(context.Context) error {
	if f.ownHC {
		f.hc.CloseIdleConnections()
	}
	return nil
}

// Fetch implements poll.Fetcher.
func (f *Fetcher) Fetch(ctx context.Context, name string, from poll.Position, limit int) (poll.Page, error) {
	e, ok := f.entities[name]
	if !ok {
		return poll.Page{}, fmt.Errorf("ploomes: unknown entity %q", name)
	}
	if limit < 1 || limit > f.cfg.PageSize {
		limit = f.cfg.PageSize
	}
	field := f.updated[name]
	u := f.base.JoinPath(name)
	u.RawQuery = Query(field, e.Config().Key, from, limit, f.loc)
	raw, err := f.get(ctx, u)
	if err != nil {
		return poll.Page{}, fmt.Errorf("entity %s: %w", name, err)
	}
	values, err := ParsePage(raw)
	if err != nil {
		return poll.Page{}, fmt.Errorf("ploomes: entity %s: %w", name, err)
	}
	page := poll.Page{More: len(values) >= limit}
	tsOf := func(obj map[string]any) (time.Time, error) {
		s, ok := obj[field].(string)
		if !ok {
			return time.Time{}, fmt.Errorf("%s is missing or not a string", field)
		}
		return poll.ParseTimestamp(s, f.loc)
	}
	for _, v := range values {
		page.Rows = append(page.Rows, e.Record(v, tsOf))
	}
	return page, nil
}

// Query is the OData query of a page of limit rows starting at from.
func Query(field string, key []poll.FieldConfig, from poll.Position, limit int, loc *time.Location) string {
	ts := from.TS
	if ts.IsZero() {
		ts = time.Date(1900, 1, 1, 0, 0, 0, 0, loc)
	}
	order := []string{field}
	for _, k := range key {
		order = append(order, k.Name)
	}
	filter := field + " ge " + ts.In(loc).Format("2006-01-02T15:04:05.9999999-07:00")
	return "$filter=" + escape(filter) + "&$orderby=" + escape(strings.Join(order, ",")) +
		"&$top=" + strconv.Itoa(limit) + "&$skip=" + strconv.Itoa(from.Skip)
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// get fetches u within the rate budget, retrying 429 and 5xx answers.
func (f *Fetcher) get(ctx context.Context, u *url.URL) ([]byte, error) {
	where := redactQuery(u)
	for attempt := 0; ; attempt++ {
		if err := f.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("ploomes: GET %s: rate budget: %w", where, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("ploomes: %w", err)
		}
		req.Header.Set("User-Key", f.key)
		req.Header.Set("Accept", "application/json")
		resp, err := f.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("ploomes: GET %s: %w", where, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("ploomes: GET %s: read answer: %w", where, err)
		}
		if len(raw) > maxBody {
			return nil, fmt.Errorf("ploomes: GET %s: answer larger than %d bytes", where, maxBody)
		}
		switch st := resp.StatusCode; {
		case st == http.StatusOK:
			return raw, nil
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			return nil, fmt.Errorf("%w: %w", ErrUnauthorized, httpError(st, raw, where))
		case (st == http.StatusTooManyRequests || st == http.StatusBadGateway || st == http.StatusServiceUnavailable || st == http.StatusGatewayTimeout) && attempt < f.cfg.MaxRetries:
			reason := "5xx"
			if st == http.StatusTooManyRequests {
				reason = "429"
			}
			wait := f.backoff(attempt, resp.Header.Get("Retry-After"))
			f.retried(reason)
			f.log.Warn("ploomes: retrying", "url", where, "status", st, "wait", wait, "attempt", attempt+1)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("ploomes: GET %s: %w", where, ctx.Err())
			case <-t.C:
			}
		default:
			return nil, httpError(st, raw, where)
		}
	}
}

// backoff is the wait before retry attempt+1: Retry-After when given
// (seconds or an HTTP date), else MinBackoff·2^attempt with jitter; both
// capped at MaxBackoff.
func (f *Fetcher) backoff(attempt int, retryAfter string) time.Duration {
	if d, ok := ParseRetryAfter(retryAfter, time.Now()); ok {
		return min(d, f.max)
	}
	d := f.min << min(attempt, 20)
	if d <= 0 || d > f.max {
		d = f.max
	}
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter
}

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 86400)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// ParsePage decodes one API answer {"value": [...]}, keeping each row's
// original JSON.
func ParsePage(body []byte) ([]json.RawMessage, error) {
	var doc struct {
		Value *[]json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("page is not a JSON object: %w", err)
	}
	if doc.Value == nil {
		return nil, errors.New(`page has no "value" array`)
	}
	for i, v := range *doc.Value {
		if len(v) == 0 || v[0] != '{' {
			return nil, fmt.Errorf("page value[%d] is not an object", i)
		}
	}
	return *doc.Value, nil
}

func httpError(status int, raw []byte, where string) *HTTPError {
	e := &HTTPError{Status: status, URL: where}
	var doc struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"Message"`
	}
	if json.Unmarshal(raw, &doc) == nil {
		e.Message = doc.Error.Message
		if e.Message == "" {
			e.Message = doc.Message
		}
	}
	if len(e.Message) > 500 {
		e.Message = e.Message[:500] + "..."
	}
	return e
}

func redactQuery(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}
