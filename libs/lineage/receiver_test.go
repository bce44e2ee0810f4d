package lineage_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/lineage"
)

// request is one request the receiver got.
type request struct {
	method, path, contentType, auth string
	body                            []byte
	event                           lineage.RunEvent
	decodeErr                       error
}

// receiver is an OpenLineage HTTP endpoint that records what it is sent.
// status, when set, picks the answer to the n-th request (0-based).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	status func(n int) int
	block  chan struct{} // when non-nil, handlers wait on it
	got    chan struct{} // signalled on each request, before blocking

	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rv := &receiver{t: t, got: make(chan struct{}, 1000)}
	rv.srv = httptest.NewServer(http.HandlerFunc(rv.handle))
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *receiver) url() string { return rv.srv.URL + "/api/v1/lineage" }

func (rv *receiver) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := request{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"),
		auth: r.Header.Get("Authorization"), body: body}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	req.decodeErr = dec.Decode(&req.event)
	rv.mu.Lock()
	n := len(rv.reqs)
	rv.reqs = append(rv.reqs, req)
	rv.mu.Unlock()
	rv.got <- struct{}{}
	if rv.block != nil {
		<-rv.block
	}
	code := http.StatusCreated
	if rv.status != nil {
		code = rv.status(n)
	}
	w.WriteHeader(code)
}

func (rv *receiver) requests() []request {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]request(nil), rv.reqs...)
}

// waitRequests waits until the receiver has n requests, or fails t.
func (rv *receiver) waitRequests(n int) []request {
	rv.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if reqs := rv.requests(); len(reqs) >= n {
			return reqs
		}
		if time.Now().After(deadline) {
			rv.t.Fatalf("receiver got %d requests, want %d", len(rv.requests()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// events returns the decoded events, failing t on a request that did not
// decode strictly.
func (rv *receiver) events() []lineage.RunEvent {
	rv.t.Helper()
	var out []lineage.RunEvent
	for i, r := range rv.requests() {
		if r.decodeErr != nil {
			rv.t.Fatalf("request %d does not decode strictly into RunEvent: %v\n%s", i, r.decodeErr, r.body)
		}
		out = append(out, r.event)
	}
	return out
}

func types(evs []lineage.RunEvent) []lineage.EventType {
	out := make([]lineage.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.EventType
	}
	return out
}
