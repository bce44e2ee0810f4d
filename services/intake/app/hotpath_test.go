package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReadBodyPaths reads bodies of known length (small, read in one go, and large, read as
// they arrive), of unknown length, shorter than declared, and over the limit.
func TestReadBodyPaths(t *testing.T) {
	small := bytes.Repeat([]byte("s"), 1000)
	large := bytes.Repeat([]byte("L"), maxPresizedBody+1000)
	const limit = 1 << 20
	for _, tc := range []struct {
		name     string
		body     io.Reader
		declared int64 // Content-Length; -1 unknown
		want     []byte
		status   int
	}{
		{"small known length", bytes.NewReader(small), int64(len(small)), small, 0},
		{"large known length", bytes.NewReader(large), int64(len(large)), large, 0},
		{"unknown length", bytes.NewReader(large), -1, large, 0},
		{"empty", bytes.NewReader(nil), 0, []byte{}, 0},
		{"shorter than declared", bytes.NewReader(small), int64(len(small)) + 10, nil, http.StatusBadRequest},
		{"declared over the limit", bytes.NewReader(small), limit + 1, nil, http.StatusRequestEntityTooLarge},
		{"unknown length over the limit", bytes.NewReader(make([]byte, limit+1)), -1, nil, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", tc.body)
			r.ContentLength = tc.declared
			buf, herr := readBody(httptest.NewRecorder(), r, limit)
			if tc.status != 0 {
				if herr == nil || herr.status != tc.status {
					t.Fatalf("error %v, want status %d", herr, tc.status)
				}
				return
			}
			if herr != nil {
				t.Fatal(herr)
			}
			defer putBody(buf)
			if !bytes.Equal(buf.Bytes(), tc.want) {
				t.Fatalf("read %d bytes, want %d", buf.Len(), len(tc.want))
			}
		})
	}
}

// TestWebhookOverTheWire posts raw HTTP/1.1 on one keep-alive connection: a chunked body (no
// Content-Length), a body shorter than its Content-Length, and routes next to the webhook
// paths that must not reach the webhook handlers.
func TestWebhookOverTheWire(t *testing.T) {
	h := newHarness(t)
	body := []byte(waNotification)
	sig := sign(testWhatsAppSecret, body)
	conn, err := net.Dial("tcp", h.svc.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	roundTrip := func(req string) (*http.Response, string) {
		t.Helper()
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	chunked := fmt.Sprintf("POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", sig, len(body), body)
	if resp, out := roundTrip(chunked); resp.StatusCode != 200 || !strings.Contains(out, `"accepted":3`) {
		t.Fatalf("chunked: %d %s", resp.StatusCode, out)
	}
	if resp, out := roundTrip("POST /webhooks/whatsapp/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"); resp.StatusCode != 404 {
		t.Fatalf("trailing slash: %d %s, want 404", resp.StatusCode, out)
	}
	if resp, out := roundTrip("PUT /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"); resp.StatusCode != 405 {
		t.Fatalf("PUT: %d %s, want 405", resp.StatusCode, out)
	}
	// Last on the connection: the client stops sending before the declared length.
	short := fmt.Sprintf("POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: %s\r\nContent-Length: %d\r\n\r\n%s", sig, len(body)+50, body)
	if _, err := io.WriteString(conn, short); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("short body: status %d, want 400", resp.StatusCode)
	}
	// Only the chunked notification was produced.
	if n := h.endOffsets("raw.whatsapp.messages"); n != 2 {
		t.Fatalf("%d message records, want 2", n)
	}
}

// TestManyRequestsKeepTheirOwnRecords sends different notifications one after the other, so
// that record batches are recycled between them, and checks every record against its own
// request: key, event id header, ingested-at header and value.
func TestManyRequestsKeepTheirOwnRecords(t *testing.T) {
	h := newHarness(t)
	const n = 20
	for i := range n {
		id := fmt.Sprintf("wamid.REQ%03d", i)
		text := strings.Repeat("x", i*37) // values of different sizes
		body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"5511987654321","id":"` +
			id + `","timestamp":"1764158400","type":"text","text":{"body":"` + text + `"}}]}}]}]}`)
		if status, _, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, body); status != 200 {
			t.Fatalf("request %d: status %d (%v)", i, status, out)
		}
	}
	recs, vals := h.consume("raw.whatsapp.messages", n)
	seen := map[string]bool{}
	for i, r := range recs {
		key := string(r.Key)
		var k int
		if _, err := fmt.Sscanf(key, "wamid.REQ%03d", &k); err != nil || seen[key] {
			t.Fatalf("record %d: unexpected or repeated key %q", i, key)
		}
		seen[key] = true
		if got := header(r, HeaderEventID); got != key {
			t.Errorf("record %s: event id header %q", key, got)
		}
		if _, err := strconv.ParseInt(header(r, HeaderIngestedAt), 10, 64); err != nil {
			t.Errorf("record %s: ingested-at header %q", key, header(r, HeaderIngestedAt))
		}
		if got := unwrap(vals[i]["event_id"]); got != key {
			t.Errorf("record %s: value event_id %v", key, got)
		}
		if got := unwrap(vals[i]["text_body"]); got != strings.Repeat("x", k*37) && (k != 0 || got != nil) {
			t.Errorf("record %s: text_body of %d bytes, want %d", key, len(fmt.Sprint(got)), k*37)
		}
	}
}

// TestNoTraceparentWithoutOne checks that a request without trace headers, on an intake that
// records no spans, produces records without a traceparent.
func TestNoTraceparentWithoutOne(t *testing.T) {
	h := newHarness(t)
	if status, _, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, []byte(waNotification)); status != 200 {
		t.Fatalf("status %d (%v)", status, out)
	}
	recs, _ := h.consume("raw.whatsapp.messages", 2)
	for _, r := range recs {
		if tp := header(r, "traceparent"); tp != "" {
			t.Errorf("record %s has traceparent %q", r.Key, tp)
		}
	}
}

func TestProduceDeadlines(t *testing.T) {
	base, cancel := context.WithCancel(context.Background())
	const timeout = 3 * time.Second
	d := newProduceDeadlines(base, timeout)
	before := time.Now()
	ctx := d.context()
	deadline, ok := ctx.Deadline()
	if !ok || deadline.Before(before.Add(timeout)) {
		t.Fatalf("deadline %v (set %v), want at least %v", deadline, ok, before.Add(timeout))
	}
	// A later window gets a new context, which expires no earlier.
	d.cur.Load().end = 0 // close the window
	next := d.context()
	if next == ctx {
		t.Fatal("a closed window's context was handed out again")
	}
	if nd, _ := next.Deadline(); nd.Before(deadline) {
		t.Fatalf("later context expires at %v, before the earlier one's %v", nd, deadline)
	}
	cancel()
	for _, c := range []context.Context{ctx, next} {
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("context not ended with its base: %v", c.Err())
		}
	}
}
