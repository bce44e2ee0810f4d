package app

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const waNotification = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511999990000","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Jo\u00e3o"},"wa_id":"5511987654321"}],"messages":[{"from":"5511987654321","id":"wamid.AAA1","timestamp":"1764158400","type":"text","text":{"body":"Ol\u00e1, tudo bem?"}},{"from":"5511987654321","id":"wamid.AAA2","timestamp":"1764158401","type":"reaction","reaction":{"message_id":"wamid.AAA1","emoji":"\ud83d\udc4d"}}],"statuses":[{"id":"wamid.OUT1","status":"read","timestamp":"1764158402","recipient_id":"5511911112222"}]}}]}]}`

func TestWhatsAppHandshake(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name, query string
		status      int
		body        string
	}{
		{"right token", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1158201444", 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444", 403, ""},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1", 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(h.url + "/webhooks/whatsapp?" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				if string(body) != tc.body {
					t.Errorf("body %q, want the challenge %q", body, tc.body)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("content type %q, want text/plain", ct)
				}
			}
		})
	}
}

func TestWhatsAppNotificationProducesEveryMessageAndStatus(t *testing.T) {
	h := newHarness(t)
	body := []byte(waNotification)
	status, _, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, body)
	if status != 200 {
		t.Fatalf("status %d (%v), want 200", status, out)
	}
	if out["accepted"] != float64(3) {
		t.Errorf("accepted %v, want 3", out["accepted"])
	}
	recs, vals := h.consume("raw.whatsapp.messages", 2)
	wantKeys := map[string]string{"wamid.AAA1": "text", "wamid.AAA2": "reaction"}
	for i, r := range recs {
		typ, ok := wantKeys[string(r.Key)]
		if !ok {
			t.Fatalf("unexpected key %q", r.Key)
		}
		if got := unwrap(vals[i]["type"]); got != typ {
			t.Errorf("message %s type %v, want %s", r.Key, got, typ)
		}
		if got := header(r, HeaderEventID); got != string(r.Key) {
			t.Errorf("riacho-event-id %q, want %q", got, r.Key)
		}
		if header(r, HeaderSource) != "whatsapp" || header(r, HeaderIngestedAt) == "" {
			t.Errorf("headers %v lack riacho-source/riacho-ingested-at", r.Headers)
		}
		payload, _ := unwrap(vals[i]["payload"]).(string)
		if !strings.Contains(string(body), payload) || payload == "" {
			t.Errorf("payload %q is not a verbatim slice of the original body", payload)
		}
	}
	srecs, svals := h.consume("raw.whatsapp.statuses", 1)
	if string(srecs[0].Key) != "wamid.OUT1:read" {
		t.Errorf("status key %q, want wamid.OUT1:read", srecs[0].Key)
	}
	if got := unwrap(svals[0]["status"]); got != "read" {
		t.Errorf("status %v, want read", got)
	}
}

func TestRejectedRequestsProduceNothing(t *testing.T) {
	h := newHarness(t)
	valid := []byte(waNotification)
	malformed := []byte(`{"object":"whatsapp_business_account","entry":[{"id":`)
	big := bytes.Repeat([]byte("x"), 70000)
	for _, tc := range []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		status  int
		reason  string
	}{
		{"no signature", "/webhooks/whatsapp", valid, map[string]string{}, 401, "unauthorized"},
		{"wrong signature", "/webhooks/whatsapp", valid, map[string]string{"X-Hub-Signature-256": sign("other", valid)}, 401, "unauthorized"},
		{"signature of another body", "/webhooks/whatsapp", valid, map[string]string{"X-Hub-Signature-256": sign(testWhatsAppSecret, []byte("{}"))}, 401, "unauthorized"},
		{"malformed JSON", "/webhooks/whatsapp", malformed, map[string]string{"X-Hub-Signature-256": sign(testWhatsAppSecret, malformed)}, 400, "malformed"},
		{"over the body limit", "/webhooks/whatsapp", big, map[string]string{"X-Hub-Signature-256": sign(testWhatsAppSecret, big)}, 413, "too_large"},
		{"meta signed with the whatsapp secret", "/webhooks/meta", valid, map[string]string{"X-Hub-Signature-256": sign(testWhatsAppSecret, valid)}, 401, "unauthorized"},
		{"ploomes without key", "/webhooks/ploomes", []byte(`{"Action":"Update","Entity":"Deal","New":{"Id":1}}`), map[string]string{}, 401, "unauthorized"},
		{"ploomes wrong key", "/webhooks/ploomes", []byte(`{"Action":"Update","Entity":"Deal","New":{"Id":1}}`), map[string]string{"X-Ploomes-Validation-Key": "nope"}, 401, "unauthorized"},
		{"generic unknown source", "/v1/events/nobody/orders", []byte(`{"a":1}`), map[string]string{"Authorization": "Bearer " + testShopToken}, 404, "unknown_source"},
		{"generic wrong token", "/v1/events/shop/orders", []byte(`{"a":1}`), map[string]string{"Authorization": "Bearer nope"}, 401, "unauthorized"},
		{"generic bad name", "/v1/events/Shop/orders", []byte(`{"a":1}`), map[string]string{"Authorization": "Bearer " + testShopToken}, 404, "bad_name"},
		{"generic scalar body", "/v1/events/shop/orders", []byte(`42`), map[string]string{"Authorization": "Bearer " + testShopToken}, 400, "malformed"},
		{"generic malformed", "/v1/events/shop/orders", []byte(`{"a":`), map[string]string{"Authorization": "Bearer " + testShopToken}, 400, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, out := h.post(tc.path, tc.body, tc.headers)
			if status != tc.status {
				t.Fatalf("status %d (%v), want %d", status, out, tc.status)
			}
			if out["reason"] != tc.reason {
				t.Errorf("reason %v, want %s", out["reason"], tc.reason)
			}
			if msg, _ := out["error"].(string); msg == "" {
				t.Error("answer carries no error message")
			}
		})
	}
	for _, topic := range []string{"raw.whatsapp.messages", "raw.whatsapp.statuses", "raw.meta.leads", "raw.ploomes.deals"} {
		if n := h.endOffsets(topic); n != 0 {
			t.Errorf("%s has %d records after only rejected requests", topic, n)
		}
	}
}

func TestMetaLeads(t *testing.T) {
	h := newHarness(t)
	body := []byte(`{"object":"page","entry":[{"id":"153125381133","time":1764158400,"changes":[{"field":"leadgen","value":{"leadgen_id":"444444444444","page_id":"153125381133","form_id":"555","adgroup_id":"666","ad_id":"777","created_time":1764158400}}]}]}`)
	status, _, out := h.postSigned("/webhooks/meta", testMetaSecret, body)
	if status != 200 {
		t.Fatalf("status %d (%v)", status, out)
	}
	recs, vals := h.consume("raw.meta.leads", 1)
	if string(recs[0].Key) != "444444444444" {
		t.Errorf("key %q, want the leadgen id", recs[0].Key)
	}
	if got := unwrap(vals[0]["form_id"]); got != "555" {
		t.Errorf("form_id %v, want 555", got)
	}
}

func TestPloomesKeyInHeaderOrBodyAndUnknownShapesKept(t *testing.T) {
	h := newHarness(t)
	viaHeader := []byte(`{"Action":"Update","Entity":"Deal","Old":{"Id":7,"StatusId":1},"New":{"Id":7,"StatusId":2,"LastUpdateDate":"2026-04-30T10:00:00-03:00"}}`)
	viaBody := []byte(`{"ResourceId":9,"Entity":"Contact","Action":"Create","ValidationKey":"` + testPloomesKey + `","UserId":3}`)
	unknown := []byte(`{"Something":"new","ValidationKey":"` + testPloomesKey + `"}`)
	if status, _, out := h.post("/webhooks/ploomes", viaHeader, map[string]string{"X-Ploomes-Validation-Key": testPloomesKey}); status != 200 {
		t.Fatalf("header key: status %d (%v)", status, out)
	}
	if status, _, out := h.post("/webhooks/ploomes", viaBody, nil); status != 200 {
		t.Fatalf("body key: status %d (%v)", status, out)
	}
	if status, _, out := h.post("/webhooks/ploomes", unknown, nil); status != 200 {
		t.Fatalf("unknown shape: status %d (%v)", status, out)
	}
	_, deals := h.consume("raw.ploomes.deals", 1)
	if got := unwrap(deals[0]["action"]); got != "Update" {
		t.Errorf("deal action %v", got)
	}
	h.consume("raw.ploomes.contacts", 1)
	_, unk := h.consume("raw.ploomes.unknown", 1)
	if got := unwrap(unk[0]["payload"]); got != string(unknown) {
		t.Errorf("unknown shape payload %v, want the original body", got)
	}
}

func TestGenericEvents(t *testing.T) {
	h := newHarness(t)
	one := []byte(`{"order_id":"PED-1","total":"10.50"}`)
	status, _, out := h.post("/v1/events/shop/orders", one, map[string]string{
		"Authorization": "Bearer " + testShopToken, "Idempotency-Key": "order-PED-1",
	})
	if status != 200 {
		t.Fatalf("bearer: status %d (%v)", status, out)
	}
	arr := []byte(`[{"order_id":"PED-2"},{"order_id":"PED-3"}]`)
	status, _, out = h.post("/v1/events/shop/orders", arr, map[string]string{"X-Signature-256": sign(testShopHMAC, arr)})
	if status != 200 || out["accepted"] != float64(2) {
		t.Fatalf("hmac array: status %d (%v), want 200 with 2 accepted", status, out)
	}
	recs, vals := h.consume("raw.shop.orders", 3)
	if got := header(recs[0], HeaderEventID); got != "order-PED-1" {
		t.Errorf("event id %q, want the Idempotency-Key", got)
	}
	if string(recs[0].Key) != "order-PED-1" {
		t.Errorf("key %q, want the Idempotency-Key", recs[0].Key)
	}
	if got := unwrap(vals[1]["payload"]); got != `{"order_id":"PED-2"}` {
		t.Errorf("array element payload %v", got)
	}
	if header(recs[1], HeaderEventID) == header(recs[2], HeaderEventID) {
		t.Error("two different array elements share an event id")
	}
}

func TestUploadCSVReportsRejectedRows(t *testing.T) {
	h := newHarness(t)
	csv := "Código;Nome;Limite Crédito;Data Cadastro\n1;Ana;1.234,56;15/01/2024\n2;João;abc;16/01/2024\n3;Maria;10,00;31/02/2024\n4;José;99,90;17/01/2024\n"
	status, _, out := h.post("/v1/uploads/planilhas/clientes?filename=clientes.csv&columns=limite_credito:decimal,data_cadastro:date",
		[]byte(csv), map[string]string{"Authorization": "Bearer " + testShopToken, "Content-Type": "text/csv"})
	if status != 200 {
		t.Fatalf("status %d (%v)", status, out)
	}
	if out["accepted"] != float64(2) {
		t.Errorf("accepted %v, want 2", out["accepted"])
	}
	rejected, _ := out["rejected"].([]any)
	if len(rejected) != 2 {
		t.Fatalf("rejected %v, want rows 3 and 4", out["rejected"])
	}
	for i, want := range []float64{3, 4} {
		row := rejected[i].(map[string]any)
		if row["row"] != want || row["reason"] == "" {
			t.Errorf("rejected[%d] = %v, want row %v with a reason", i, row, want)
		}
	}
	_, vals := h.consume("raw.planilhas.clientes", 2)
	if got := unwrap(vals[0]["file_name"]); got != "clientes.csv" {
		t.Errorf("file_name %v", got)
	}
	if got := unwrap(vals[0]["payload"]).(string); !strings.Contains(got, `"1234.56"`) || !strings.Contains(got, `"2024-01-15"`) {
		t.Errorf("payload %s lacks the normalised decimal and date", got)
	}
}

func TestBrokerDownAnswers503WithinBoundAndRecovers(t *testing.T) {
	h := newHarness(t)
	body := []byte(waNotification)
	if status, _, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, body); status != 200 {
		t.Fatalf("before: status %d (%v)", status, out)
	}
	h.kafka.Stop()
	start := time.Now()
	status, hdr, out := h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, body)
	elapsed := time.Since(start)
	if status != 503 {
		t.Fatalf("broker down: status %d (%v), want 503", status, out)
	}
	if hdr.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q, want 2", hdr.Get("Retry-After"))
	}
	if elapsed > 5*time.Second {
		t.Errorf("503 took %s, want it within the 1.5s produce timeout plus margin", elapsed)
	}
	h.kafka.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, _, out = h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, body)
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: still %d (%v)", status, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestMetricsPerSource(t *testing.T) {
	h := newHarness(t)
	h.postSigned("/webhooks/whatsapp", testWhatsAppSecret, []byte(waNotification))
	h.post("/webhooks/whatsapp", []byte(waNotification), nil)
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`riacho_intake_requests_total{code="200",source="whatsapp"} 1`,
		`riacho_intake_requests_total{code="401",source="whatsapp"} 1`,
		`riacho_intake_rejections_total{reason="unauthorized",source="whatsapp"} 1`,
		`riacho_intake_events_produced_total{source="whatsapp",topic="raw.whatsapp.messages"} 2`,
		`riacho_intake_request_duration_seconds_count{source="whatsapp"} 2`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		fmt.Println(string(text))
	}
}
