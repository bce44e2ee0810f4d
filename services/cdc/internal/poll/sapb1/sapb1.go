// Package sapb1 reads changed rows of SAP Business One entities through the
// Service Layer (OData v1 /b1s/v1 and v2 /b1s/v2) for the cursor poller.
//
// It logs in with CompanyDB/UserName/Password, sends the B1SESSION and
// ROUTEID cookies with every request and logs in again once when a request
// is answered 401 (the session timed out). Pages are asked with
// "Prefer: odata.maxpagesize=N", and the next link is followed in both forms
// ("odata.nextLink" in v1, "@odata.nextLink" in v2, relative or absolute on
// the same host).
//
// Changed rows are selected with
//
//	(UpdateDate gt 'D') or (UpdateDate eq 'D' and UpdateTime ge 'T')
//
// ordered by UpdateDate, UpdateTime and the key, where D and T are the
// poller's position in the Service Layer's local time. The filter is
// inclusive: rows at exactly the position's time that were already read are
// skipped with $skip, and rows re-read in the overlap window are dropped by
// the poller by key. (The naive "UpdateDate ge D and UpdateTime ge T" would
// miss rows changed on later days at earlier clock times.)
package sapb1

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/envelope"
	"github.com/riacho/riacho/services/cdc/internal/poll"
)

// Connector is the envelope's connector name for SAP B1 tables.
const Connector = "sapb1"

// Options are the Fetcher's dependencies.
type Options struct {
	// HTTPClient, when set, is used as is (its TLS settings and timeout
	// included); nil builds one from the config (Timeout, InsecureSkipVerify).
	HTTPClient *http.Client
	// Password, when set, is used instead of reading cfg.PasswordEnv.
	Password string
	// Logger receives login and session messages; nil discards them.
	Logger *slog.Logger
}

// Fetcher is a poll.Fetcher over one Service Layer login.
type Fetcher struct {
	cfg      poll.SAPB1Config
	base     *url.URL // service root, with a trailing slash
	hc       *http.Client
	ownHC    bool
	password string
	loc      *time.Location
	log      *slog.Logger
	names    []string
	entities map[string]*entity

	loginMu sync.Mutex // one login at a time
	mu      sync.Mutex
	sess    session
	onRetry func(string)
}

type entity struct {
	json     *poll.JSONEntity
	cfg      poll.EntityConfig
	dateF    string
	timeF    string // "" for date-only entities
	keyNames []string
}

// New checks cfg (after cfg.Defaults) and prepares a Fetcher; it does not
// log in until the first request.
func New(cfg poll.SAPB1Config, opts Options) (*Fetcher, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sapb1 config: %w", err)
	}
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("sapb1 config: url: %w", err)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	loc, err := poll.ParseOffset(cfg.TimezoneOffset)
	if err != nil {
		return nil, fmt.Errorf("sapb1 config: timezone_offset: %w", err)
	}
	f := &Fetcher{cfg: cfg, base: base, loc: loc, log: opts.Logger, entities: map[string]*entity{}, hc: opts.HTTPClient}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.password = opts.Password
	if f.password == "" {
		if f.password, err = cfg.Password(); err != nil {
			return nil, fmt.Errorf("sapb1 config: %w", err)
		}
	}
	if f.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in for self-signed Service Layer certificates
		f.hc = &http.Client{Timeout: cfg.Timeout, Transport: tr}
		f.ownHC = true
	}
	for _, e := range cfg.Entities {
		ent := &entity{cfg: e, dateF: e.UpdatedAt}
		cursor := []poll.FieldConfig{{Name: e.UpdatedAt, Type: "date"}}
		if e.UpdatedTime != "none" {
			ent.timeF = e.UpdatedTime
			cursor = append(cursor, poll.FieldConfig{Name: e.UpdatedTime, Type: "string"})
		}
		for _, k := range e.Key {
			ent.keyNames = append(ent.keyNames, k.Name)
		}
		if ent.json, err = poll.NewJSONEntity(e, cursor, loc, Connector, cfg.CompanyDB, cfg.Schema); err != nil {
			return nil, fmt.Errorf("sapb1 config: %w", err)
		}
		f.names = append(f.names, e.Name)
		f.entities[e.Name] = ent
	}
	return f, nil
}

// Entities implements poll.Fetcher.
func (f *Fetcher) Entities() []string { return append([]string(nil), f.names...) }

// NotifyRetries implements poll.RetryNotifier: fn is called with "relogin"
// each time an expired session is replaced.
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

// Describe implements poll.Fetcher.
func (f *Fetcher) Describe(_ context.Context, name string) (*envelope.Table, error) {
	e, ok := f.entities[name]
	if !ok {
		return nil, fmt.Errorf("sapb1: unknown entity %q", name)
	}
	return e.json.Table(), nil
}

// Close implements poll.Closer: it logs out and drops idle connections.
func (f *Fetcher) Close(ctx context.Context) error {
	err := f.logout(ctx)
	if f.ownHC {
		f.hc.CloseIdleConnections()
	}
	return err
}

// Fetch implements poll.Fetcher: one query from the position, following
// next links until limit rows were read or the result ends.
func (f *Fetcher) Fetch(ctx context.Context, name string, from poll.Position, limit int) (poll.Page, error) {
	e, ok := f.entities[name]
	if !ok {
		return poll.Page{}, fmt.Errorf("sapb1: unknown entity %q", name)
	}
	if limit < 1 {
		limit = f.cfg.PageSize
	}
	pageSize := min(limit, f.cfg.PageSize)
	u := f.base.JoinPath(name)
	u.RawQuery = e.query(from, f.loc)
	var page poll.Page
	for {
		raw, err := f.get(ctx, u, pageSize)
		if err != nil {
			return poll.Page{}, fmt.Errorf("entity %s: %w", name, err)
		}
		values, next, err := ParsePage(raw)
		if err != nil {
			return poll.Page{}, fmt.Errorf("sapb1: entity %s: %w", name, err)
		}
		for _, v := range values {
			page.Rows = append(page.Rows, e.json.Record(v, e.changeTime(f.loc)))
		}
		if next == "" {
			return page, nil
		}
		if len(values) == 0 {
			return poll.Page{}, fmt.Errorf("sapb1: entity %s: empty page with a next link", name)
		}
		if u, err = f.resolve(next); err != nil {
			return poll.Page{}, fmt.Errorf("sapb1: entity %s: %w", name, err)
		}
		if len(page.Rows) >= limit {
			page.More = true
			return page, nil
		}
	}
}

// ErrForeignLink marks a next link pointing away from the Service Layer.
var ErrForeignLink = errors.New("next link leaves the Service Layer")

// resolve turns a next link (relative to the service root, or absolute on
// the same scheme and host) into a URL; the session cookie is never sent
// elsewhere.
func (f *Fetcher) resolve(link string) (*url.URL, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("next link %.100q: %w", link, err)
	}
	u := f.base.ResolveReference(ref)
	if u.Scheme != f.base.Scheme || u.Host != f.base.Host {
		return nil, fmt.Errorf("%w: %.100q", ErrForeignLink, link)
	}
	return u, nil
}

// query is the OData query of a page starting at from.
func (e *entity) query(from poll.Position, loc *time.Location) string {
	if from.TS.IsZero() {
		// The first poll reads everything that has a change date.
		from.TS = time.Date(1900, 1, 1, 0, 0, 0, 0, loc)
	}
	var filter string
	switch e.timeF {
	case "":
		filter = fmt.Sprintf("%s ge '%s'", e.dateF, from.TS.In(loc).Format(time.DateOnly))
	default:
		t := from.TS.In(loc)
		d, tm := t.Format(time.DateOnly), t.Format(time.TimeOnly)
		filter = fmt.Sprintf("(%s gt '%s') or (%s eq '%s' and %s ge '%s')", e.dateF, d, e.dateF, d, e.timeF, tm)
	}
	order := []string{e.dateF}
	if e.timeF != "" {
		order = append(order, e.timeF)
	}
	order = append(order, e.keyNames...)
	q := "$filter=" + escape(filter) + "&$orderby=" + escape(strings.Join(order, ","))
	if from.Skip > 0 {
		q += "&$skip=" + strconv.Itoa(from.Skip)
	}
	return q
}

// escape is url.QueryEscape with spaces as %20, which every OData server reads.
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// changeTime reads a row's change time: UpdateDate plus UpdateTime in the
// Service Layer's zone.
func (e *entity) changeTime(loc *time.Location) func(map[string]any) (time.Time, error) {
	return func(obj map[string]any) (time.Time, error) {
		ds, ok := obj[e.dateF].(string)
		if !ok {
			return time.Time{}, fmt.Errorf("%s is missing or not a string", e.dateF)
		}
		d, err := poll.ParseDate(ds)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", e.dateF, err)
		}
		var secs int
		// A missing UpdateTime sorts first on the database, as midnight does.
		if e.timeF != "" && obj[e.timeF] != nil {
			if secs, err = ParseTimeOfDay(obj[e.timeF]); err != nil {
				return time.Time{}, fmt.Errorf("%s: %w", e.timeF, err)
			}
		}
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, secs, 0, loc).UTC(), nil
	}
}

// ParseTimeOfDay reads a Service Layer time of day as seconds since
// midnight: "14:35:10", "14:35", "1900-01-01T14:35:10", "PT14H35M10S", or
// the database's integer HHMMSS (leading zero dropped: 93005 is 09:30:05).
func ParseTimeOfDay(v any) (int, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return 0, errors.New("missing")
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
	default:
		return 0, fmt.Errorf("a %T is not a time of day", v)
	}
	if _, rest, ok := strings.Cut(s, "T"); ok && !strings.HasPrefix(s, "PT") {
		s = strings.TrimSuffix(rest, "Z")
	}
	var h, m, sec int
	switch {
	case strings.HasPrefix(s, "PT"):
		d, err := time.ParseDuration(strings.ToLower(strings.TrimPrefix(s, "PT")))
		if err != nil {
			return 0, fmt.Errorf("%.20q is not a time of day", s)
		}
		h, m, sec = int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	case strings.Contains(s, ":"):
		parts := strings.Split(s, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return 0, fmt.Errorf("%.20q is not a time of day", s)
		}
		if len(parts) == 2 {
			parts = append(parts, "0")
		}
		parts[2], _, _ = strings.Cut(parts[2], ".")
		var errs [3]error
		h, errs[0] = strconv.Atoi(parts[0])
		m, errs[1] = strconv.Atoi(parts[1])
		sec, errs[2] = strconv.Atoi(parts[2])
		if err := errors.Join(errs[:]...); err != nil {
			return 0, fmt.Errorf("%.20q is not a time of day", s)
		}
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%.20q is not a time of day", s)
		}
		h, m, sec = n/10000, n/100%100, n%100
	}
	if h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 {
		return 0, fmt.Errorf("%.20q is not a time of day", s)
	}
	return h*3600 + m*60 + sec, nil
}

// ParsePage decodes one Service Layer page: the rows of "value" (each kept
// as its original JSON) and the next link from "odata.nextLink" (v1) or
// "@odata.nextLink" (v2), "" on the last page.
func ParsePage(body []byte) (values []json.RawMessage, next string, err error) {
	var doc struct {
		Value  *[]json.RawMessage `json:"value"`
		NextV1 *string            `json:"odata.nextLink"`
		NextV2 *string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("page is not an OData JSON object: %w", err)
	}
	if doc.Value == nil {
		return nil, "", errors.New(`page has no "value" array`)
	}
	for i, v := range *doc.Value {
		if len(v) == 0 || v[0] != '{' {
			return nil, "", fmt.Errorf("page value[%d] is not an object", i)
		}
	}
	switch {
	case doc.NextV2 != nil:
		next = *doc.NextV2
	case doc.NextV1 != nil:
		next = *doc.NextV1
	}
	return *doc.Value, next, nil
}
