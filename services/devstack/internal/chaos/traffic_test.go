package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/riacho/riacho/services/devstack/internal/demo"
)

// accepted is what the generator knows of one event whose request was
// answered 2xx.
type accepted struct {
	id    string // the intake's event id (Kafka key, event_id column)
	topic string // the raw topic it goes to
	// deal is the Ploomes deal id (lead_id, subscription_id), 0 for others.
	deal int64
	// lead says the deal has an e-mail, so stg_ploomes_leads carries it;
	// curated says that e-mail passes the seed's regex (else quarantine).
	lead, curated bool
	// ambiguous counts the attempts that failed after the request may have
	// reached the intake (reset, timeout, 5xx): the intake is at least
	// once, so such an event may be in its raw topic more than once.
	ambiguous int
}

// post is one webhook request and the events it carries.
type post struct {
	path    string
	body    []byte
	headers map[string]string
	events  []accepted
}

// generator posts correctly signed WhatsApp and Ploomes webhooks to the
// intake at a steady rate. A request that fails is sent again, with the
// same body and so the same event ids, until the intake answers 2xx; only
// then do its events count as accepted.
type generator struct {
	url      string
	secret   string // WhatsApp app secret
	key      string // Ploomes validation key
	interval time.Duration
	http     *http.Client

	mu       sync.Mutex
	rnd      *rand.Rand
	nextDeal int64
	events   map[string]accepted
	failures int
}

func newGenerator(url string, env map[string]string, interval time.Duration, seed uint64) *generator {
	return &generator{
		url: url, secret: env["RIACHO_WHATSAPP_APP_SECRET"], key: env["RIACHO_PLOOMES_VALIDATION_KEY"],
		interval: interval,
		http:     &http.Client{Timeout: 10 * time.Second},
		rnd:      rand.New(rand.NewPCG(seed, seed^0x5eed)), //nolint:gosec // test data
		nextDeal: 7_000_000,
		events:   map[string]accepted{},
	}
}

// run posts until stop is closed; the request in hand is still delivered
// (bounded by ctx). workers requests are in flight at once.
func (g *generator) run(ctx context.Context, stop <-chan struct{}, workers int) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(g.interval)
			defer t.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				if err := g.deliver(ctx, g.next(n)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// next builds a request: every other one a Ploomes deal update.
func (g *generator) next(n int) post {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now().UTC()
	if n%2 == 1 {
		g.nextDeal++
		return ploomesPost(g.rnd, now, g.nextDeal, g.key)
	}
	body := demo.WhatsAppNotification(g.rnd, now)
	return post{
		path: "/webhooks/whatsapp", body: body, events: whatsAppEvents(body),
		headers: map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": demo.Sign(g.secret, body)},
	}
}

// deliver sends p until it is answered 2xx, then records its events.
func (g *generator) deliver(ctx context.Context, p post) error {
	ambiguous := 0
	for attempt := 1; ; attempt++ {
		status, err := g.send(ctx, p)
		switch {
		case err == nil && status < 300:
			g.record(p, ambiguous)
			return nil
		case err == nil && status < 500:
			return fmt.Errorf("intake refused %s with %d (attempt %d): the generator's request is wrong", p.path, status, attempt)
		case ctx.Err() != nil:
			return fmt.Errorf("%s with events %s not accepted before the traffic deadline: %w", p.path, eventIDs(p), ctx.Err())
		case err == nil || !errors.Is(err, syscall.ECONNREFUSED):
			ambiguous++ // it may have reached the intake: a 5xx, a reset, a timeout
		}
		g.mu.Lock()
		g.failures++
		g.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (g *generator) send(ctx context.Context, p post) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url+p.path, bytes.NewReader(p.body))
	if err != nil {
		return 0, err
	}
	for k, v := range p.headers {
		req.Header.Set(k, v)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	if err != nil && resp.StatusCode < 300 {
		return 0, err // the answer was cut: it cannot count as accepted
	}
	return resp.StatusCode, nil
}

func (g *generator) record(p post, ambiguous int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range p.events {
		e.ambiguous = ambiguous
		g.events[e.id] = e
	}
}

// accepted returns the events accepted so far.
func (g *generator) accepted() map[string]accepted {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]accepted, len(g.events))
	for k, v := range g.events {
		out[k] = v
	}
	return out
}

// count returns how many events were accepted and how many attempts failed.
func (g *generator) count() (events, failures int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.events), g.failures
}

func eventIDs(p post) string {
	ids := make([]string, len(p.events))
	for i, e := range p.events {
		ids[i] = e.id
	}
	return strings.Join(ids, ", ")
}

// whatsAppEvents lists the events the intake makes of a demo notification:
// one per message (id = message id) and one per status (id = status id +
// ":" + status).
func whatsAppEvents(body []byte) []accepted {
	var n struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []struct {
						ID string `json:"id"`
					} `json:"messages"`
					Statuses []struct {
						ID     string `json:"id"`
						Status string `json:"status"`
					} `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		panic(fmt.Sprintf("demo WhatsApp notification is not JSON: %v", err))
	}
	var out []accepted
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			for _, m := range c.Value.Messages {
				out = append(out, accepted{id: m.ID, topic: "raw.whatsapp.messages"})
			}
			for _, s := range c.Value.Statuses {
				out = append(out, accepted{id: s.ID + ":" + s.Status, topic: "raw.whatsapp.statuses"})
			}
		}
	}
	return out
}

// seedEmail is the architecture document's e-mail expectation, the regex of
// the demo suite on stg_ploomes_leads.
var seedEmail = regexp.MustCompile(`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`)

// ploomesPost is a demo Ploomes deal update with its deal id set to deal,
// so every deal (lead_id, subscription_id) is new.
func ploomesPost(r *rand.Rand, now time.Time, deal int64, key string) post {
	var n map[string]any
	dec := json.NewDecoder(bytes.NewReader(demo.PloomesDeal(r, now)))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		panic(fmt.Sprintf("demo Ploomes deal is not JSON: %v", err))
	}
	newRec, _ := n["New"].(map[string]any)
	oldRec, _ := n["Old"].(map[string]any)
	newRec["Id"], oldRec["Id"] = deal, deal
	body, err := json.Marshal(n)
	if err != nil {
		panic(err)
	}
	e := accepted{
		id:    fmt.Sprintf("deals:%d:Update:%s", deal, newRec["LastUpdateDate"]),
		topic: "raw.ploomes.deals", deal: deal,
	}
	if email, ok := newRec["ContactEmail"].(string); ok {
		e.lead = true
		e.curated = seedEmail.MatchString(strings.TrimSpace(strings.ToLower(email)))
	}
	return post{
		path: "/webhooks/ploomes", body: body, events: []accepted{e},
		headers: map[string]string{"Content-Type": "application/json", "X-Ploomes-Validation-Key": key},
	}
}
