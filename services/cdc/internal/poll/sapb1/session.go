package sapb1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds one response body.
const maxBody = 128 << 20

// ErrLogin marks a failed Service Layer login (bad credentials or company).
var ErrLogin = errors.New("sapb1: login failed")

// HTTPError is a Service Layer answer other than 2xx.
type HTTPError struct {
	Status  int
	Code    string // the Service Layer's error code, e.g. "301"
	Message string
	URL     string // without the query
}

func (e *HTTPError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("sapb1: %s: HTTP %d (code %s): %s", e.URL, e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("sapb1: %s: HTTP %d", e.URL, e.Status)
}

// session is the current login: the cookies to send and a generation
// number, so that concurrent requests failing with 401 log in only once.
type session struct {
	cookie string // "B1SESSION=...; ROUTEID=..."
	gen    int
}

func (f *Fetcher) current() session {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sess
}

// Login logs in (again) unless a newer session than stale already exists.
func (f *Fetcher) login(ctx context.Context, stale int) error {
	f.loginMu.Lock()
	defer f.loginMu.Unlock()
	if s := f.current(); s.gen > stale && s.cookie != "" {
		return nil
	}
	body, err := json.Marshal(map[string]string{
		"CompanyDB": f.cfg.CompanyDB, "UserName": f.cfg.Username, "Password": f.password,
	})
	if err != nil {
		return fmt.Errorf("sapb1: login: %w", err)
	}
	u := f.base.JoinPath("Login")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sapb1: login: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sapb1: login %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("sapb1: login %s: read answer: %w", u.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		herr := httpError(resp.StatusCode, raw, u)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusBadRequest {
			return fmt.Errorf("%w for %s@%s: %w", ErrLogin, f.cfg.Username, f.cfg.CompanyDB, herr)
		}
		return fmt.Errorf("sapb1: login: %w", herr)
	}
	var parts []string
	var haveSession bool
	for _, c := range resp.Cookies() {
		switch c.Name {
		case "B1SESSION":
			haveSession = true
			parts = append(parts, c.Name+"="+c.Value)
		case "ROUTEID":
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	if !haveSession {
		// Some installs only answer the session id in the body.
		var b struct{ SessionId string } //nolint:revive // the Service Layer's spelling
		if json.Unmarshal(raw, &b) != nil || b.SessionId == "" {
			return fmt.Errorf("%w: the answer has neither a B1SESSION cookie nor a SessionId", ErrLogin)
		}
		parts = append([]string{"B1SESSION=" + b.SessionId}, parts...)
	}
	f.mu.Lock()
	f.sess = session{cookie: strings.Join(parts, "; "), gen: f.sess.gen + 1}
	f.mu.Unlock()
	f.log.Info("sapb1: logged in", "url", f.base.Redacted(), "company", f.cfg.CompanyDB, "user", f.cfg.Username)
	return nil
}

// get fetches u with the session cookies, logging in first when there is no
// session, and once more when the answer is 401 (expired session).
func (f *Fetcher) get(ctx context.Context, u *url.URL, pageSize int) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		s := f.current()
		if s.cookie == "" {
			if err := f.login(ctx, s.gen); err != nil {
				return nil, err
			}
			s = f.current()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("sapb1: %w", err)
		}
		req.Header.Set("Cookie", s.cookie)
		req.Header.Set("Accept", "application/json")
		if pageSize > 0 {
			req.Header.Set("Prefer", fmt.Sprintf("odata.maxpagesize=%d", pageSize))
		}
		resp, err := f.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("sapb1: GET %s: %w", redactQuery(u), err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sapb1: GET %s: read answer: %w", redactQuery(u), err)
		}
		if len(raw) > maxBody {
			return nil, fmt.Errorf("sapb1: GET %s: answer larger than %d bytes", redactQuery(u), maxBody)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			f.retried("relogin")
			f.log.Info("sapb1: session expired, logging in again", "url", redactQuery(u))
			if err := f.login(ctx, s.gen); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, httpError(resp.StatusCode, raw, u)
		}
		return raw, nil
	}
}

// logout ends the session, if any.
func (f *Fetcher) logout(ctx context.Context) error {
	f.loginMu.Lock()
	defer f.loginMu.Unlock()
	s := f.current()
	if s.cookie == "" {
		return nil
	}
	f.mu.Lock()
	f.sess.cookie = ""
	f.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base.JoinPath("Logout").String(), nil)
	if err != nil {
		return fmt.Errorf("sapb1: logout: %w", err)
	}
	req.Header.Set("Cookie", s.cookie)
	resp, err := f.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sapb1: logout: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("sapb1: logout: HTTP %d", resp.StatusCode)
	}
	return nil
}

// httpError decodes the Service Layer's error document, v1
// {"error":{"code":-1,"message":{"lang":"en-us","value":"..."}}} or v2
// {"error":{"code":"301","message":"..."}}.
func httpError(status int, raw []byte, u *url.URL) *HTTPError {
	e := &HTTPError{Status: status, URL: redactQuery(u)}
	var doc struct {
		Error struct {
			Code    json.RawMessage `json:"code"`
			Message json.RawMessage `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return e
	}
	e.Code = strings.Trim(string(doc.Error.Code), `"`)
	var msg struct {
		Value string `json:"value"`
	}
	var s string
	switch {
	case json.Unmarshal(doc.Error.Message, &msg) == nil && msg.Value != "":
		e.Message = msg.Value
	case json.Unmarshal(doc.Error.Message, &s) == nil:
		e.Message = s
	}
	if len(e.Message) > 500 {
		e.Message = e.Message[:500] + "..."
	}
	return e
}

// redactQuery is u without its query, for logs and errors.
func redactQuery(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}
