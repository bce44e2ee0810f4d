package webhook

import (
	"bytes"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseWhatsAppMessages(t *testing.T) {
	tests := []struct {
		file   string
		typ    string
		fields map[string]string // decoded nullable string fields that must equal these ("" = null)
	}{
		{"message_text.json", "text", map[string]string{"payload_has_escape": `pre\u00e7o`,
			"text_body": "Olá! Quero saber o preço do plano anual.", "contact_name": "José Silva",
			"wa_id": "5511987654321", "from": "5511987654321", "waba_id": "102290129340398",
			"phone_number_id": "106540352242922", "display_phone_number": "15550783881", "media_id": "", "user_id": ""}},
		{"message_image.json", "image", map[string]string{"media_id": "1003383421387256", "mime_type": "image/jpeg",
			"sha256": "O3ERc7+0Bp2T5cNdtj5kz9pEbS9qC/S6JvI1NUbPRgk=", "caption": "Foto do produto", "text_body": ""}},
		{"message_audio.json", "audio", map[string]string{"media_id": "1234567890123456", "mime_type": "audio/ogg; codecs=opus"}},
		{"message_video.json", "video", map[string]string{"media_id": "2345678901234567", "caption": "Vídeo"}},
		{"message_document.json", "document", map[string]string{"media_id": "3456789012345678", "filename": "Orçamento 2026.pdf"}},
		{"message_sticker.json", "sticker", map[string]string{"media_id": "4567890123456789", "mime_type": "image/webp"}},
		{"message_location.json", "location", map[string]string{"location_name": "Avenida Paulista",
			"location_address": "Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200"}},
		{"message_contacts.json", "contacts", map[string]string{"text_body": "", "media_id": ""}},
		{"message_interactive_button.json", "interactive", map[string]string{"interactive_type": "button_reply",
			"interactive_reply_id": "btn_sim", "interactive_reply_title": "Sim", "context_from": "15550783881",
			"context_id": "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ0QUE="}},
		{"message_interactive_list.json", "interactive", map[string]string{"interactive_type": "list_reply",
			"interactive_reply_id": "plano_anual", "interactive_reply_description": "12x de R$ 99,90"}},
		{"message_interactive_nfm.json", "interactive", map[string]string{"interactive_type": "nfm_reply", "interactive_reply_title": "flow"}},
		{"message_button.json", "button", map[string]string{"button_payload": "QUERO_FALAR_COM_VENDAS", "button_text": "Falar com vendas"}},
		{"message_reaction.json", "reaction", map[string]string{"reaction_emoji": "👍",
			"reaction_message_id": "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ2Q0M="}},
		{"message_order.json", "order", map[string]string{"order_catalog_id": "1234567890", "order_text": "Pedido pelo WhatsApp"}},
		{"message_system.json", "system", map[string]string{"contact_name": "", "wa_id": ""}},
		{"message_request_welcome.json", "request_welcome", map[string]string{"text_body": ""}},
		{"message_unsupported.json", "unsupported", map[string]string{}},
		{"message_unknown_future_type.json", "hologram", map[string]string{"media_id": ""}},
		{"message_referral.json", "text", map[string]string{"referral_source_type": "ad", "referral_source_id": "120212345678900123",
			"referral_ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-ZABe",
			"referral_headline":  "Plano anual com 20% off"}},
		{"message_username.json", "text", map[string]string{"from": "", "wa_id": "", "user_id": "BR.1502576394655843",
			"username": "ana.compras", "contact_name": "Ana"}},
		{"message_br_ninth_digit.json", "text", map[string]string{"from": "5511987654321", "wa_id": "551187654321", "contact_name": "João Antigo"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, "whatsapp/"+tt.file)
			events, err := ParseWhatsApp(body, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Fatalf("%d events, want 1", len(events))
			}
			ev := events[0]
			if ev.Topic != TopicWhatsAppMessages || ev.Source != "whatsapp" {
				t.Fatalf("topic %s source %s", ev.Topic, ev.Source)
			}
			m := roundTrip(t, events)[0]
			if m["type"] != tt.typ || m["message_id"] != ev.ID || !strings.HasPrefix(ev.ID, "wamid.") {
				t.Fatalf("type %v message_id %v id %s", m["type"], m["message_id"], ev.ID)
			}
			if want := time.Unix(1764150000, 0).UTC(); !ev.Time.Equal(want) && tt.file != "message_username.json" && tt.file != "message_br_ninth_digit.json" {
				t.Errorf("time %v, want %v from the timestamp", ev.Time, want)
			}
			if got := m["received_at"].(time.Time); !got.Equal(testNow.Truncate(time.Microsecond)) {
				t.Errorf("received_at %v", got)
			}
			for field, want := range tt.fields {
				if field == "payload_has_escape" {
					if !strings.Contains(m["payload"].(string), want) {
						t.Errorf("payload lost the escape %s", want)
					}
					continue
				}
				if got := str(m, field); got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			// The payload is the message object's original bytes, escapes included.
			payload := m["payload"].(string)
			if !bytes.Contains(body, []byte(payload)) || !strings.HasPrefix(payload, "{") {
				t.Errorf("payload is not a verbatim slice of the body: %.120s", payload)
			}
		})
	}
}

func TestParseWhatsAppTypedFields(t *testing.T) {
	parse := func(file string) map[string]any {
		t.Helper()
		events, err := ParseWhatsApp(readTestdata(t, "whatsapp/"+file), testNow)
		if err != nil {
			t.Fatal(err)
		}
		return roundTrip(t, events)[0]
	}
	t.Run("location doubles", func(t *testing.T) {
		m := parse("message_location.json")
		if m["latitude"].(map[string]any)["double"] != -23.5613496 || m["longitude"].(map[string]any)["double"] != -46.6565712 {
			t.Fatalf("lat/long %v %v", m["latitude"], m["longitude"])
		}
	})
	t.Run("order decimals", func(t *testing.T) {
		m := parse("message_order.json")
		items := m["order_items"].(map[string]any)["array"].([]any)
		if len(items) != 2 {
			t.Fatalf("%d items", len(items))
		}
		first := items[0].(map[string]any)
		price := first["item_price"].(map[string]any)["bytes.decimal"].(*big.Rat)
		if price.FloatString(4) != "149.9000" || first["quantity"].(map[string]any)["long"] != int64(2) {
			t.Fatalf("first item %v", first)
		}
		second := items[1].(map[string]any)
		// "1234.56789" rounds half away from zero to scale 4.
		if p := second["item_price"].(map[string]any)["bytes.decimal"].(*big.Rat); p.FloatString(4) != "1234.5679" {
			t.Fatalf("second price %s", p.FloatString(4))
		}
		if second["quantity"].(map[string]any)["long"] != int64(1) {
			t.Fatalf("string quantity not parsed: %v", second["quantity"])
		}
	})
	t.Run("unsupported keeps errors", func(t *testing.T) {
		m := parse("message_unsupported.json")
		if !strings.Contains(str(m, "errors"), "131051") {
			t.Fatalf("errors %q", str(m, "errors"))
		}
	})
	t.Run("context forwarded flag", func(t *testing.T) {
		m := parse("message_button.json")
		if m["forwarded"].(map[string]any)["boolean"] != false {
			t.Fatalf("forwarded %v", m["forwarded"])
		}
		if !isNull(parse("message_text.json"), "forwarded") {
			t.Fatal("forwarded set without context")
		}
	})
}

func TestParseWhatsAppStatuses(t *testing.T) {
	tests := []struct {
		file   string
		status string
		fields map[string]string
		check  func(t *testing.T, m map[string]any)
	}{
		{"status_sent.json", "sent", map[string]string{"conversation_id": "b2f0a6a1c1f3e4d5a6b7c8d9e0f1a2b3",
			"conversation_origin_type": "marketing", "pricing_model": "PMP", "pricing_category": "marketing",
			"pricing_type": "regular", "biz_opaque_callback_data": "campanha-black-friday", "recipient_id": "5511987654321"},
			func(t *testing.T, m map[string]any) {
				exp := m["conversation_expiration"].(map[string]any)["long.timestamp-micros"].(time.Time)
				if !exp.Equal(time.Unix(1764236700, 0)) {
					t.Errorf("expiration %v", exp)
				}
				if m["pricing_billable"].(map[string]any)["boolean"] != true {
					t.Errorf("billable %v", m["pricing_billable"])
				}
			}},
		{"status_delivered.json", "delivered", map[string]string{"errors": ""}, nil},
		{"status_read.json", "read", map[string]string{"conversation_id": "", "pricing_model": ""}, nil},
		{"status_failed.json", "failed", map[string]string{"error_title": "Message undeliverable"},
			func(t *testing.T, m map[string]any) {
				if m["error_code"].(map[string]any)["long"] != int64(131026) {
					t.Errorf("error_code %v", m["error_code"])
				}
				if !strings.Contains(str(m, "errors"), `"error_data"`) {
					t.Errorf("errors not raw JSON: %s", str(m, "errors"))
				}
			}},
		{"status_username.json", "delivered", map[string]string{"recipient_id": "", "recipient_user_id": "BR.1502576394655843",
			"pricing_type": "free_customer_service"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			events, err := ParseWhatsApp(readTestdata(t, "whatsapp/"+tt.file), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Topic != TopicWhatsAppStatuses {
				t.Fatalf("%d events on %v", len(events), events)
			}
			ev := events[0]
			if want := "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjQ3RERFRkFCQ0RFRg==:" + tt.status; ev.ID != want {
				t.Fatalf("id %s, want %s", ev.ID, want)
			}
			m := roundTrip(t, events)[0]
			if m["status"] != tt.status || !ev.Time.Equal(time.Unix(1764150300, 0)) {
				t.Fatalf("status %v time %v", m["status"], ev.Time)
			}
			for field, want := range tt.fields {
				if got := str(m, field); got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func TestParseWhatsAppBatch(t *testing.T) {
	body := readTestdata(t, "whatsapp/batch.json")
	events, err := ParseWhatsApp(body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, ev := range events {
		counts[ev.Topic]++
	}
	if counts[TopicWhatsAppMessages] != 41 || counts[TopicWhatsAppStatuses] != 4 || counts[TopicWhatsAppEvents] != 1 {
		t.Fatalf("counts %v", counts)
	}
	vals := roundTrip(t, events)
	ids := map[string]bool{}
	for i, ev := range events {
		if ids[ev.ID] {
			t.Fatalf("duplicate id %s", ev.ID)
		}
		ids[ev.ID] = true
		if ev.Topic == TopicWhatsAppMessages && strings.HasPrefix(ev.ID, "wamid.BATCH") {
			// Each message gets its own contact by wa_id, not the first one.
			if want := "Cliente " + strings.TrimLeft(ev.ID[len("wamid.BATCH"):], "0"); str(vals[i], "contact_name") != want && ev.ID != "wamid.BATCH0000" {
				t.Errorf("%s contact %q, want %q", ev.ID, str(vals[i], "contact_name"), want)
			}
		}
		if ev.ID == "wamid.SECOND" && (str(vals[i], "waba_id") != "102290129340399" || str(vals[i], "phone_number_id") != "106540352242923") {
			t.Errorf("second entry's metadata not used: %v", vals[i])
		}
	}
	// Re-delivery of the same body yields the same ids (dedupe downstream).
	again, err := ParseWhatsApp(body, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if again[i].ID != events[i].ID {
			t.Fatalf("id %d changed on re-delivery: %s vs %s", i, again[i].ID, events[i].ID)
		}
	}
}

func TestParseWhatsAppOtherFields(t *testing.T) {
	tests := []struct {
		file  string
		field string
	}{
		{"event_template_status.json", "message_template_status_update"},
		{"event_value_errors.json", "messages"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, "whatsapp/"+tt.file)
			events, err := ParseWhatsApp(body, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Topic != TopicWhatsAppEvents {
				t.Fatalf("events %v", events)
			}
			m := roundTrip(t, events)[0]
			if m["field"] != tt.field || !events[0].Time.Equal(testNow) || len(events[0].ID) != 64 {
				t.Fatalf("field %v time %v id %s", m["field"], events[0].Time, events[0].ID)
			}
			payload, value := m["payload"].(string), str(m, "value")
			mustJSON(t, []byte(payload))
			mustJSON(t, []byte(value))
			if !bytes.Contains(body, []byte(payload)) || !strings.Contains(payload, value) {
				t.Fatalf("payload/value not verbatim: %s / %s", payload, value)
			}
		})
	}
}

func TestParseWhatsAppErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
		says string
	}{
		{"not json", `{"object":"whatsapp_business_account","entry":[`, ErrMalformed, "offset"},
		{"garbage", `hello`, ErrMalformed, "offset 0"},
		{"empty", ``, ErrMalformed, "offset"},
		{"page object", `{"object":"page","entry":[]}`, ErrUnsupportedObject, `"page"`},
		{"no object", `{"entry":[]}`, ErrUnsupportedObject, `""`},
		{"entry not array", `{"object":"whatsapp_business_account","entry":{}}`, ErrMalformed, "entry"},
		{"bad timestamp", wa(`{"from":"1","id":"wamid.X","timestamp":"yesterday","type":"text"}`), ErrMalformed, "entry[0].changes[0].value.messages[0].timestamp: want unix seconds"},
		{"negative timestamp", wa(`{"from":"1","id":"wamid.X","timestamp":"-5","type":"text"}`), ErrMalformed, "timestamp"},
		{"huge timestamp", wa(`{"from":"1","id":"wamid.X","timestamp":"99999999999999","type":"text"}`), ErrMalformed, "timestamp"},
		{"object timestamp", wa(`{"from":"1","id":"wamid.X","timestamp":{},"type":"text"}`), ErrMalformed, "messages[0]"},
		{"message without id", wa(`{"from":"1","timestamp":"1","type":"text"}`), ErrMalformed, "without id"},
		{"message not object", wa(`"hi"`), ErrMalformed, "messages[0]"},
		{"text body number", wa(`{"id":"wamid.X","type":"text","text":{"body":5}}`), ErrMalformed, "text.body"},
		{"status without status", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"x"}]}}]}]}`, ErrMalformed, "statuses[0]"},
		{"bad status timestamp", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"x","status":"read","timestamp":"1.5"}]}}]}]}`, ErrMalformed, "timestamp"},
		{"value not object", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":[1]}]}]}`, ErrMalformed, "entry[0].changes[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := ParseWhatsApp([]byte(tt.body), testNow)
			if !errors.Is(err, tt.want) || events != nil {
				t.Fatalf("ParseWhatsApp = %d events, %v; want %v", len(events), err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

// wa wraps one message object in a notification.
func wa(msg string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[` + msg + `]}}]}]}`
}

func TestParseWhatsAppLenient(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		count int
	}{
		{"no entries", `{"object":"whatsapp_business_account","entry":[]}`, 0},
		{"numeric timestamp", wa(`{"id":"wamid.X","timestamp":1764150000,"type":"text"}`), 1},
		{"missing timestamp uses receive time", wa(`{"id":"wamid.X","type":"text"}`), 1},
		{"numeric entry id", `{"object":"whatsapp_business_account","entry":[{"id":102290129340398,"changes":[{"field":"x","value":null}]}]}`, 1},
		{"empty messages change kept", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[]}}]}]}`, 1},
		{"location as strings", wa(`{"id":"wamid.X","type":"location","location":{"latitude":"-23.5","longitude":"-46.6"}}`), 1},
		{"bad order price is null", wa(`{"id":"wamid.X","type":"order","order":{"product_items":[{"item_price":"abc","quantity":"x"},{"item_price":1e30}]}}`), 1},
		{"invalid utf8 in string", wa("{\"id\":\"wamid.X\",\"type\":\"text\",\"text\":{\"body\":\"\xff\"}}"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := ParseWhatsApp([]byte(tt.body), testNow)
			if err != nil || len(events) != tt.count {
				t.Fatalf("ParseWhatsApp = %d events, %v; want %d", len(events), err, tt.count)
			}
			roundTrip(t, events)
		})
	}
}

func TestSamePhone(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"5511987654321", "5511987654321", true},
		{"5511987654321", "551187654321", true},
		{"551187654321", "5511987654321", true},
		{"5511987654321", "552187654321", false}, // other DDD
		{"5511887654321", "551187654321", false}, // not a ninth-digit 9
		{"5511912345678", "551112345678", false}, // 8-digit landline prefix 1 is not a mobile
		{"14155550123", "1415555012", false},     // not Brazil
		{"", "", true},
	}
	for _, tt := range tests {
		if got := samePhone(tt.a, tt.b); got != tt.want {
			t.Errorf("samePhone(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzParseWhatsApp(f *testing.F) {
	for _, s := range seeds(f, "whatsapp") {
		f.Add(s)
	}
	f.Add([]byte(wa(`{"id":"a","timestamp":"1","type":"order","order":{"product_items":[{"item_price":"-0.00005"}]}}`)))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := ParseWhatsApp(body, testNow)
		if _, ok := checkParsed(t, body, events, err, ErrMalformed, ErrUnsupportedObject); !ok {
			return
		}
		// A parse into recycled maps encodes to the same bytes.
		_, want := encodeAll(t, body)
		ReleaseEvents(events)
		checkSame(t, body, want, "reparse")
	})
}

func BenchmarkParseWhatsApp(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "whatsapp", "bench_text_1k.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		events, err := ParseWhatsApp(body, testNow)
		if err != nil || len(events) != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseWhatsAppEncode is the full hot path of one request: parse and Avro-encode.
func BenchmarkParseWhatsAppEncode(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "whatsapp", "bench_text_1k.json"))
	if err != nil {
		b.Fatal(err)
	}
	codec := codecFor(b, KnownTopics()[TopicWhatsAppMessages])
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		events, err := ParseWhatsApp(body, testNow)
		if err != nil || len(events) != 1 {
			b.Fatal(err)
		}
		if buf, err = codec.BinaryFromNative(buf[:0], events[0].Value); err != nil {
			b.Fatal(err)
		}
		ReleaseEvents(events) // as the intake does once the records are encoded
	}
}
