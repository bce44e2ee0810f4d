package webhook

import (
	"strings"
	"testing"

	"github.com/riacho/riacho/services/intake/schemas"
)

func TestKnownTopics(t *testing.T) {
	topics := KnownTopics()
	want := map[string]string{
		"raw.whatsapp.messages": schemas.WhatsAppMessage, "raw.whatsapp.statuses": schemas.WhatsAppStatus,
		"raw.whatsapp.events": schemas.WhatsAppEvent, "raw.meta.leads": schemas.MetaLead, "raw.meta.events": schemas.MetaEvent,
		"raw.ploomes.deals": schemas.PloomesChange, "raw.ploomes.unknown": schemas.PloomesChange,
	}
	for topic, schema := range want {
		if topics[topic] != schema {
			t.Errorf("KnownTopics()[%s] is not the expected schema", topic)
		}
	}
	if len(topics) != 5+len(PloomesTopics()) {
		t.Errorf("%d topics", len(topics))
	}
	for topic, schema := range topics {
		parts := strings.Split(topic, ".")
		if len(parts) != 3 || parts[0] != "raw" || !ValidName(parts[1]) || !ValidName(parts[2]) {
			t.Errorf("topic %q is not raw.<source>.<entity>", topic)
		}
		codecFor(t, schema)
	}
	if GenericSchema != schemas.RawEvent {
		t.Error("GenericSchema is not riacho.raw.RawEvent")
	}
}

func TestDecimalRat(t *testing.T) {
	tests := []struct {
		in   string
		want string // FloatString(4), "" = not ok
	}{
		{"149.9", "149.9000"}, {"0", "0.0000"}, {"-12.34565", "-12.3457"}, {"12.34564", "12.3456"}, {"1e2", "100.0000"},
		{"1.5E-3", "0.0015"}, {"99999999999999.9999", "99999999999999.9999"}, {"999999999999999", ""},
		{"99999999999999.99995", ""}, {"", ""}, {"abc", ""}, {"1e999", ""}, {"--1", ""}, {".", ""}, {"1.2.3", ""},
	}
	for _, tt := range tests {
		r, ok := decimalRat(tt.in, 4, 18)
		got := ""
		if ok {
			got = r.FloatString(4)
		}
		if got != tt.want {
			t.Errorf("decimalRat(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"InteractionRecord", "interaction_record"}, {"Preço Unitário", "preco_unitario"}, {"HTTPServer", "http_server"},
		{"already_snake", "already_snake"}, {"  spaced  out  ", "spaced_out"}, {"São João", "sao_joao"}, {"a--b", "a_b"},
		{"ÀÉÎÕÜ ç ñ", "aeiou_c_n"}, {"日本", ""}, {"x²", "x2"}, {"ABC123Def", "abc123_def"},
	}
	for _, tt := range tests {
		if got := snakeCase(tt.in, 63); got != tt.want {
			t.Errorf("snakeCase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := snakeCase(strings.Repeat("ab ", 40), 63); len(got) > 63 || strings.HasSuffix(got, "_") {
		t.Errorf("long name %q", got)
	}
}
