// Package lineagetest runs an OpenLineage HTTP receiver on a loopback
// port for tests: it records every event POSTed to it, decoded strictly
// into lineage.RunEvent.
package lineagetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/lineage"
)

// Path is the path events are posted to, as Marquez serves it.
const Path = "/api/v1/lineage"

// Receiver is an httptest server that accepts OpenLineage events.
type Receiver struct {
	tb  testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	events []lineage.RunEvent
	errs   []error
}

// NewReceiver starts a receiver closed by t.Cleanup.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	rv := &Receiver{tb: t}
	rv.srv = httptest.NewServer(http.HandlerFunc(rv.handle))
	t.Cleanup(rv.srv.Close)
	return rv
}

// URL is the endpoint to set as RIACHO_LINEAGE_URL.
func (rv *Receiver) URL() string { return rv.srv.URL + Path }

func (rv *Receiver) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev lineage.RunEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&ev)
	switch {
	case r.Method != http.MethodPost || r.URL.Path != Path:
		err = fmt.Errorf("%s %s, want POST %s", r.Method, r.URL.Path, Path)
	case r.Header.Get("Content-Type") != "application/json":
		err = fmt.Errorf("content type %q", r.Header.Get("Content-Type"))
	case err != nil:
		err = fmt.Errorf("body does not decode strictly into a RunEvent: %w: %s", err, body)
	}
	rv.mu.Lock()
	if err != nil {
		rv.errs = append(rv.errs, err)
	} else {
		rv.events = append(rv.events, ev)
	}
	rv.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// Events returns the events received so far, failing the test if any
// request was malformed.
func (rv *Receiver) Events() []lineage.RunEvent {
	rv.tb.Helper()
	rv.mu.Lock()
	defer rv.mu.Unlock()
	for _, err := range rv.errs {
		rv.tb.Errorf("lineage receiver: %v", err)
	}
	return append([]lineage.RunEvent(nil), rv.events...)
}

// Wait returns the events once match holds for them, failing the test if
// it does not within timeout.
func (rv *Receiver) Wait(timeout time.Duration, what string, match func([]lineage.RunEvent) bool) []lineage.RunEvent {
	rv.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := rv.Events()
		if match(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			rv.tb.Fatalf("lineage receiver: no %s within %s; got %s", what, timeout, Describe(evs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// OfJob returns the events of job, in the order received.
func OfJob(evs []lineage.RunEvent, job string) []lineage.RunEvent {
	var out []lineage.RunEvent
	for _, e := range evs {
		if e.Job.Name == job {
			out = append(out, e)
		}
	}
	return out
}

// Describe lists events as "TYPE job run" lines for failure messages.
func Describe(evs []lineage.RunEvent) string {
	var b bytes.Buffer
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %s %s run=%s", e.EventType, e.Job.Name, e.Run.RunID)
		if e.Run.Facets != nil && e.Run.Facets.ErrorMessage != nil {
			fmt.Fprintf(&b, " error=%q", e.Run.Facets.ErrorMessage.Message)
		}
	}
	if b.Len() == 0 {
		return "no events"
	}
	return b.String()
}
