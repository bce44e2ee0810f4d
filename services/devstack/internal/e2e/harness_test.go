package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/devstack/internal/demo"
	"github.com/riacho/riacho/services/devstack/internal/devstack"
)

// harness is a running devstack and what a client needs to talk to it.
type harness struct {
	st   *devstack.Stack
	opts devstack.Options
	env  map[string]string
	http *http.Client
	reg  *registryReader
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// stackOptions runs all six services on free loopback ports over dataDir,
// without demo traffic and without the demo database.
func stackOptions(tb testing.TB, dataDir string) devstack.Options {
	return devstack.Options{
		DataDir:      dataDir,
		DemoInterval: 500 * time.Millisecond,
		KafkaAddr:    freeAddr(tb),
		RegistryAddr: freeAddr(tb),
		IntakeAddr:   freeAddr(tb),
		IntakeCtl:    freeAddr(tb),
		CDCCtl:       freeAddr(tb),
		CDCOps:       freeAddr(tb),
		Sink:         true,
		SinkCtl:      freeAddr(tb),
		SinkOps:      freeAddr(tb),
		Transform:    true,
		TransformCtl: freeAddr(tb),
		TransformOps: freeAddr(tb),
		Quality:      true,
		QualityCtl:   freeAddr(tb),
		QualityOps:   freeAddr(tb),
		Metrics:      true,
		MetricsAddr:  freeAddr(tb),
		MetricsHTTP:  freeAddr(tb),
		MetricsOps:   freeAddr(tb),
		DemoPG:       "off",
		LogLevel:     "warn",
	}
}

// start brings the stack up with opts and environ (RIACHO_* overrides of
// the devstack defaults) and returns a harness over it.
func start(ctx context.Context, opts devstack.Options, environ []string) (*harness, error) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := devstack.Start(ctx, opts, environ, logger)
	if err != nil {
		return nil, fmt.Errorf("start devstack: %w", err)
	}
	return &harness{
		st:   st,
		opts: opts,
		env:  devstack.Env(opts, environ),
		http: &http.Client{Timeout: 15 * time.Second},
		reg:  newRegistryReader("http://" + opts.RegistryAddr),
	}, nil
}

// startTB starts a stack for one test and stops it when the test ends.
func startTB(tb testing.TB, opts devstack.Options, environ []string) *harness {
	tb.Helper()
	h, err := start(context.Background(), opts, environ)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := h.st.Stop(); err != nil {
			tb.Errorf("stop devstack: %v", err)
		}
	})
	return h
}

// controlToken is the operator's Control token of the stack.
func (h *harness) controlToken() string { return tokenOf(h.env["RIACHO_CONTROL_TOKENS"], "operator") }

// sourceToken is the intake's bearer token of a generic source (shop, planilhas).
func (h *harness) sourceToken(source string) string {
	return tokenOf(h.env["RIACHO_INTAKE_SOURCE_TOKENS"], source)
}

// tokenOf finds name's token in a "name:token,..." list.
func tokenOf(pairs, name string) string {
	for _, p := range strings.Split(pairs, ",") {
		if k, tok, ok := strings.Cut(strings.TrimSpace(p), ":"); ok && k == name {
			return tok
		}
	}
	return ""
}

// answer is an intake HTTP answer.
type answer struct {
	status int
	body   string
	at     time.Time // when the answer's headers arrived
}

// post sends body to the intake's path with headers.
func (h *harness) post(ctx context.Context, path string, body []byte, headers map[string]string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+h.opts.IntakeAddr+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("post %s: %w", path, err)
	}
	at := time.Now()
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return answer{status: resp.StatusCode, body: string(bytes.TrimSpace(msg)), at: at}, nil
}

// postWhatsApp posts a WhatsApp notification signed with secret.
func (h *harness) postWhatsApp(ctx context.Context, body []byte, secret string) (answer, error) {
	return h.post(ctx, "/webhooks/whatsapp", body, map[string]string{
		"Content-Type": "application/json", "X-Hub-Signature-256": demo.Sign(secret, body),
	})
}

// postPloomes posts a Ploomes notification with validation key key.
func (h *harness) postPloomes(ctx context.Context, body []byte, key string) (answer, error) {
	return h.post(ctx, "/webhooks/ploomes", body, map[string]string{
		"Content-Type": "application/json", "X-Ploomes-Validation-Key": key,
	})
}

// accepted fails tb unless the intake answered the post with 2xx.
func accepted(tb testing.TB, what string, a answer, err error) answer {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	if a.status < 200 || a.status > 299 {
		tb.Fatalf("%s: the intake answered %d %s, want 2xx", what, a.status, a.body)
	}
	return a
}

// deal is one Ploomes deal notification: the fields the demo models read.
type deal struct {
	ID       int64
	StatusID int    // 2 is won: an active subscription
	Cents    int64  // Amount in centavos (the annual value)
	Category string // ProductCategory
	Email    string // ContactEmail; empty sends null
	At       time.Time
}

// body is the deal as Ploomes posts it, in the {Action, Entity, Old, New}
// shape of the demo's deals (demo.PloomesDeal).
func (d deal) body() []byte {
	amount := json.Number(money(d.Cents))
	var email any
	if d.Email != "" {
		email = d.Email
	}
	title := fmt.Sprintf("Plano anual - e2e %d", d.ID)
	b, err := json.Marshal(map[string]any{
		"Action": "Update", "Entity": "Deal",
		"Old": map[string]any{"Id": d.ID, "Title": title, "StatusId": 1, "Amount": amount},
		"New": map[string]any{"Id": d.ID, "Title": title, "StatusId": d.StatusID, "Amount": amount,
			"ContactId": 900000 + d.ID%1000, "LastUpdateDate": d.At.Format(time.RFC3339Nano),
			"ProductCategory": d.Category, "ContactEmail": email, "ContactPhone": "+5511987654321"},
	})
	if err != nil {
		panic(err) // plain values only
	}
	return b
}

// monthlyCents is what the deal adds to mrr when won: the annual amount
// over 12 (amounts here are multiples of 12 centavos, so it is exact).
func (d deal) monthlyCents() int64 { return d.Cents / 12 }

// segment is fct_subscriptions' customer_segment of the deal.
func (d deal) segment() string {
	switch {
	case d.Cents >= 3000000:
		return "Enterprise"
	case d.Cents >= 1000000:
		return "Mid-Market"
	}
	return "SMB"
}

// money writes centavos as a decimal number: -1234 is "-12.34".
func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// whatsAppText is a WhatsApp Business notification with one text message
// whose id is wamid, in the shape Meta posts.
func whatsAppText(wamid, text string, at time.Time) []byte {
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": "5511999990000", "phone_number_id": "106540352242922"},
			"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Ana Souza"}, "wa_id": "5511987654321"}},
			"messages": []any{map[string]any{"from": "5511987654321", "id": wamid, "timestamp": fmt.Sprint(at.Unix()),
				"type": "text", "text": map[string]any{"body": text}}},
		}}}}},
	})
	if err != nil {
		panic(err) // plain values only
	}
	return b
}
