// Package polltest holds test fixtures for the cursor pollers: HTTP servers
// that behave as the SAP Business One Service Layer and the Ploomes API are
// documented (sessions, paging, rate limits), and a harness running the
// poller against kfake and the embedded schema registry.
package polltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// SAPB1 is a Service Layer: POST /b1s/v1/Login gives B1SESSION and ROUTEID
// cookies, entity sets answer OData queries with server-driven paging
// (Prefer: odata.maxpagesize, default 20 rows) and a next link in the v1
// ("odata.nextLink") or v2 ("@odata.nextLink") form. Sessions can be
// expired to make the next request fail with 401.
type SAPB1 struct {
	// Server is the HTTPS test server.
	Server *httptest.Server

	// CompanyDB, UserName and Password are the credentials Login accepts.
	CompanyDB, UserName, Password string

	mu       sync.Mutex
	nextBase string
	v2       bool
	absolute bool
	maxPage  int
	sessions map[string]bool
	sets     map[string]*entitySet
	logins   int
	gets     int
	fail     []int // statuses to answer the next GETs with
	queries  []string
	prefers  []string
}

type entitySet struct {
	key  string
	rows map[string]map[string]any
}

// NewSAPB1 starts a Service Layer over TLS with a self-signed certificate,
// closed at the end of the test.
func NewSAPB1(t testing.TB) *SAPB1 {
	s := &SAPB1{
		CompanyDB: "SBODEMOBR", UserName: "manager", Password: "s3cret",
		maxPage: 20, sessions: map[string]bool{}, sets: map[string]*entitySet{},
	}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Server.Close)
	return s
}

// URL is the service root, https://127.0.0.1:port/b1s/v1.
func (s *SAPB1) URL() string {
	if s.isV2() {
		return s.Server.URL + "/b1s/v2"
	}
	return s.Server.URL + "/b1s/v1"
}

func (s *SAPB1) isV2() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.v2 }

// SetV2 makes the server answer as Service Layer v2 (/b1s/v2, @odata.nextLink).
func (s *SAPB1) SetV2(v2 bool) { s.mu.Lock(); s.v2 = v2; s.mu.Unlock() }

// SetAbsoluteNextLink makes next links absolute URLs instead of relative.
func (s *SAPB1) SetAbsoluteNextLink(abs bool) { s.mu.Lock(); s.absolute = abs; s.mu.Unlock() }

// SetNextLinkBase makes next links absolute on another base URL (a hostile
// or misconfigured server).
func (s *SAPB1) SetNextLinkBase(base string) { s.mu.Lock(); s.nextBase = base; s.mu.Unlock() }

// SetPassword changes the password Login accepts.
func (s *SAPB1) SetPassword(p string) { s.mu.Lock(); s.Password = p; s.mu.Unlock() }

// SetMaxPageSize caps the page size the server grants whatever the client prefers.
func (s *SAPB1) SetMaxPageSize(n int) { s.mu.Lock(); s.maxPage = n; s.mu.Unlock() }

// ExpireSessions forgets every session: the next request gets 401.
func (s *SAPB1) ExpireSessions() { s.mu.Lock(); clear(s.sessions); s.mu.Unlock() }

// FailNext makes the next GET requests answer with these statuses, in order.
func (s *SAPB1) FailNext(statuses ...int) {
	s.mu.Lock()
	s.fail = append(s.fail, statuses...)
	s.mu.Unlock()
}

// Logins is how many successful logins happened.
func (s *SAPB1) Logins() int { s.mu.Lock(); defer s.mu.Unlock(); return s.logins }

// Gets is how many entity GETs were answered 200.
func (s *SAPB1) Gets() int { s.mu.Lock(); defer s.mu.Unlock(); return s.gets }

// Queries are the raw query strings of the entity GETs, in order.
func (s *SAPB1) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

// Prefers are the Prefer headers of the entity GETs, in order.
func (s *SAPB1) Prefers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.prefers...)
}

// Put inserts or replaces a row of entity set name, keyed by its key field.
func (s *SAPB1) Put(name, keyField string, row map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.sets[name]
	if set == nil {
		set = &entitySet{key: keyField, rows: map[string]map[string]any{}}
		s.sets[name] = set
	}
	cp := make(map[string]any, len(row))
	for k, v := range row {
		cp[k] = v
	}
	set.rows[fmt.Sprint(row[keyField])] = cp
}

func sapError(w http.ResponseWriter, status int, code any, msg string) {
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": map[string]any{"lang": "en-us", "value": msg},
	}})
}

func (s *SAPB1) serve(w http.ResponseWriter, r *http.Request) {
	root := "/b1s/v1/"
	if s.isV2() {
		root = "/b1s/v2/"
	}
	name, ok := strings.CutPrefix(r.URL.Path, root)
	if !ok {
		sapError(w, http.StatusNotFound, -1, "Resource not found")
		return
	}
	switch {
	case name == "Login" && r.Method == http.MethodPost:
		s.login(w, r)
	case name == "Logout" && r.Method == http.MethodPost:
		if c, err := r.Cookie("B1SESSION"); err == nil {
			s.mu.Lock()
			delete(s.sessions, c.Value)
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet:
		s.get(w, r, name)
	default:
		sapError(w, http.StatusMethodNotAllowed, -1, "Method not allowed")
	}
}

func (s *SAPB1) login(w http.ResponseWriter, r *http.Request) {
	var body struct{ CompanyDB, UserName, Password string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		sapError(w, http.StatusBadRequest, -1, "Invalid login body")
		return
	}
	s.mu.Lock()
	ok := body.CompanyDB == s.CompanyDB && body.UserName == s.UserName && body.Password == s.Password
	s.mu.Unlock()
	if !ok {
		sapError(w, http.StatusUnauthorized, -304, "Fail to get DB Credentials from SLD")
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.sessions[id] = true
	s.logins++
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "B1SESSION", Value: id, Path: "/b1s", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: "ROUTEID", Value: ".node1", Path: "/b1s", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"odata.metadata": s.Server.URL + "/b1s/v1/$metadata#B1Sessions/@Element",
		"SessionId":      id, "Version": "1000190", "SessionTimeout": 30,
	})
}

func (s *SAPB1) get(w http.ResponseWriter, r *http.Request, name string) {
	sess, err1 := r.Cookie("B1SESSION")
	_, err2 := r.Cookie("ROUTEID")
	s.mu.Lock()
	valid := err1 == nil && err2 == nil && s.sessions[sess.Value]
	var fail int
	if valid && len(s.fail) > 0 {
		fail, s.fail = s.fail[0], s.fail[1:]
	}
	set := s.sets[name]
	s.mu.Unlock()
	if !valid {
		sapError(w, http.StatusUnauthorized, 301, "Invalid session or session already timeout.")
		return
	}
	if fail != 0 {
		sapError(w, fail, -1, "injected failure")
		return
	}
	if set == nil {
		sapError(w, http.StatusNotFound, -1, "Unrecognized resource path.")
		return
	}
	q := r.URL.Query()
	rows, err := s.query(set, q)
	if err != nil {
		sapError(w, http.StatusBadRequest, -1, err.Error())
		return
	}
	s.mu.Lock()
	size := s.maxPage
	v2, abs, nextBase := s.v2, s.absolute, s.nextBase
	s.gets++
	s.queries = append(s.queries, r.URL.RawQuery)
	s.prefers = append(s.prefers, r.Header.Get("Prefer"))
	s.mu.Unlock()
	if pref := r.Header.Get("Prefer"); pref != "" {
		if n, ok := strings.CutPrefix(pref, "odata.maxpagesize="); ok {
			if v, err := strconv.Atoi(n); err == nil && v > 0 {
				size = min(v, size)
				w.Header().Set("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(size))
			}
		}
	}
	skip, _ := strconv.Atoi(q.Get("$skip"))
	page := rows
	if skip < len(page) {
		page = page[skip:]
	} else {
		page = nil
	}
	resp := map[string]any{}
	if len(page) > size {
		page = page[:size]
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("$skip", strconv.Itoa(skip+size))
		link := name + "?" + strings.ReplaceAll(nq.Encode(), "+", "%20")
		switch {
		case nextBase != "":
			link = nextBase + "/b1s/v1/" + link
		case abs:
			link = s.URL() + "/" + link
		}
		if v2 {
			resp["@odata.nextLink"] = link
		} else {
			resp["odata.nextLink"] = link
		}
	}
	if v2 {
		resp["@odata.context"] = s.URL() + "/$metadata#" + name
	} else {
		resp["odata.metadata"] = s.URL() + "/$metadata#" + name
	}
	if page == nil {
		page = []map[string]any{}
	}
	resp["value"] = page
	w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *SAPB1) query(set *entitySet, q url.Values) ([]map[string]any, error) {
	s.mu.Lock()
	rows := make([]map[string]any, 0, len(set.rows))
	for _, r := range set.rows {
		rows = append(rows, r)
	}
	s.mu.Unlock()
	return applyQuery(rows, q, set.key)
}

// applyQuery filters and orders rows by $filter and $orderby (by key when
// no order is asked, as the services do).
func applyQuery(rows []map[string]any, q url.Values, key string) ([]map[string]any, error) {
	if f := q.Get("$filter"); f != "" {
		e, err := parseFilter(f)
		if err != nil {
			return nil, fmt.Errorf("$filter: %w", err)
		}
		kept := rows[:0]
		for _, r := range rows {
			if e(r) {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	if err := orderBy(rows, key); err != nil {
		return nil, err
	}
	if o := q.Get("$orderby"); o != "" {
		if err := orderBy(rows, o); err != nil {
			return nil, err
		}
	}
	return rows, nil
}
