package webhook

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseMetaLeads(t *testing.T) {
	t.Run("leadgen", func(t *testing.T) {
		body := readTestdata(t, "meta/leadgen.json")
		events, err := ParseMetaLeads(body, testNow)
		if err != nil || len(events) != 1 {
			t.Fatalf("%d events, %v", len(events), err)
		}
		ev := events[0]
		if ev.Topic != TopicMetaLeads || ev.ID != "9876543210987654" || ev.Source != "meta" || !ev.Time.Equal(time.Unix(1764149990, 0)) {
			t.Fatalf("event %+v", ev)
		}
		m := roundTrip(t, events)[0]
		for field, want := range map[string]string{"leadgen_id": "9876543210987654", "page_id": "444444444444",
			"form_id": "1234567890123456", "adgroup_id": "120210000000000002", "ad_id": "120210000000000001"} {
			if got := str(m, field); got != want {
				t.Errorf("%s = %q, want %q", field, got, want)
			}
		}
		if p := m["payload"].(string); !strings.HasPrefix(p, `{"ad_id"`) || !bytes.Contains(body, []byte(p)) {
			t.Errorf("payload is not the value object verbatim: %s", p)
		}
	})
	t.Run("numeric ids keep every digit", func(t *testing.T) {
		events, err := ParseMetaLeads(readTestdata(t, "meta/leadgen_numeric_ids.json"), testNow)
		if err != nil {
			t.Fatal(err)
		}
		m := roundTrip(t, events)[0]
		if events[0].ID != "444444444444" || str(m, "adgroup_id") != "44444444444" {
			t.Fatalf("id %s adgroup %s", events[0].ID, str(m, "adgroup_id"))
		}
	})
	t.Run("mixed fields", func(t *testing.T) {
		events, err := ParseMetaLeads(readTestdata(t, "meta/mixed.json"), testNow)
		if err != nil {
			t.Fatal(err)
		}
		vals := roundTrip(t, events)
		if len(events) != 3 || events[0].Topic != TopicMetaLeads || events[1].Topic != TopicMetaLeads || events[2].Topic != TopicMetaEvents {
			t.Fatalf("topics %v", events)
		}
		// page_id falls back to entry.id when the value lacks it.
		if str(vals[1], "page_id") != "444444444444" || !isNull(vals[1], "ad_id") {
			t.Errorf("second lead %v", vals[1])
		}
		if vals[2]["field"] != "feed" || !events[2].Time.Equal(time.Unix(1764150000, 0)) || !strings.Contains(str(vals[2], "value"), `\u00d3timo`) {
			t.Errorf("feed event %v at %v", vals[2], events[2].Time)
		}
	})
}

func TestParseMetaLeadsErrors(t *testing.T) {
	lead := func(v string) string {
		return `{"object":"page","entry":[{"id":"1","changes":[{"field":"leadgen","value":` + v + `}]}]}`
	}
	tests := []struct {
		name, body string
		want       error
		says       string
	}{
		{"not json", `{"object":"page",`, ErrMalformed, "offset"},
		{"whatsapp object", `{"object":"whatsapp_business_account","entry":[]}`, ErrUnsupportedObject, "whatsapp_business_account"},
		{"no leadgen_id", lead(`{"form_id":"1"}`), ErrMalformed, "leadgen_id"},
		{"value not object", lead(`"x"`), ErrMalformed, "entry[0].changes[0].value"},
		{"bad created_time", lead(`{"leadgen_id":"1","created_time":"ontem"}`), ErrMalformed, "created_time"},
		{"object leadgen_id", lead(`{"leadgen_id":{}}`), ErrMalformed, "leadgen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMetaLeads([]byte(tt.body), testNow)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err %v, want %v saying %q", err, tt.want, tt.says)
			}
		})
	}
	t.Run("graph api time form", func(t *testing.T) {
		events, err := ParseMetaLeads([]byte(lead(`{"leadgen_id":"1","created_time":"2026-11-26T10:00:00+0000"}`)), testNow)
		if err != nil || !events[0].Time.Equal(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("%v %v", events, err)
		}
	})
}

func FuzzParseMetaLeads(f *testing.F) {
	for _, s := range seeds(f, "meta") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := ParseMetaLeads(body, testNow)
		checkParsed(t, body, events, err, ErrMalformed, ErrUnsupportedObject)
	})
}
