package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// compact normalises a JSON literal for comparison.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	return b.String()
}

var sample = Alert{
	Severity: SeverityCritical,
	Kind:     KindPipeline,
	Title:    "sink stopped: ploomes.deals",
	Text:     "commit failed 3 times; lag > 10k & growing <check>",
	Fields:   map[string]string{"topic": "ploomes.deals", "lag": "10412"},
}

// TestPayloads posts one alert to a Slack and a Teams route on loopback and
// compares the exact JSON each service receives.
func TestPayloads(t *testing.T) {
	tests := []struct {
		name    string
		service string
		alert   Alert
		want    string
	}{
		{"slack", ServiceSlack, sample, `{
			"text": "[CRITICAL] pipeline: sink stopped: ploomes.deals",
			"blocks": [
				{"type": "header", "text": {"type": "plain_text", "text": "sink stopped: ploomes.deals"}},
				{"type": "section", "text": {"type": "mrkdwn", "text": "commit failed 3 times; lag &gt; 10k &amp; growing &lt;check&gt;"}},
				{"type": "section", "fields": [
					{"type": "mrkdwn", "text": "*lag*\n10412"},
					{"type": "mrkdwn", "text": "*topic*\nploomes.deals"}
				]},
				{"type": "context", "elements": [{"type": "mrkdwn", "text": "severity: *critical* | kind: *pipeline*"}]}
			]}`},
		{"slack minimal", ServiceSlack, Alert{Severity: SeverityInfo, Kind: KindSLA, Title: "whatsapp fresh again"}, `{
			"text": "[INFO] sla: whatsapp fresh again",
			"blocks": [
				{"type": "header", "text": {"type": "plain_text", "text": "whatsapp fresh again"}},
				{"type": "context", "elements": [{"type": "mrkdwn", "text": "severity: *info* | kind: *sla*"}]}
			]}`},
		{"teams", ServiceTeams, sample, `{
			"type": "message",
			"attachments": [{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"contentUrl": null,
				"content": {
					"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
					"type": "AdaptiveCard",
					"version": "1.2",
					"body": [
						{"type": "TextBlock", "text": "sink stopped: ploomes.deals", "weight": "Bolder", "size": "Medium", "color": "Attention", "wrap": true},
						{"type": "TextBlock", "text": "commit failed 3 times; lag > 10k & growing <check>", "wrap": true},
						{"type": "FactSet", "facts": [
							{"title": "severity", "value": "critical"},
							{"title": "kind", "value": "pipeline"},
							{"title": "lag", "value": "10412"},
							{"title": "topic", "value": "ploomes.deals"}
						]}
					]
				}
			}]}`},
		{"teams warning", ServiceTeams, Alert{Severity: SeverityWarning, Kind: KindPerformance, Title: "p95 query 4s"}, `{
			"type": "message",
			"attachments": [{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"contentUrl": null,
				"content": {
					"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
					"type": "AdaptiveCard",
					"version": "1.2",
					"body": [
						{"type": "TextBlock", "text": "p95 query 4s", "weight": "Bolder", "size": "Medium", "color": "Warning", "wrap": true},
						{"type": "FactSet", "facts": [
							{"title": "severity", "value": "warning"},
							{"title": "kind", "value": "performance"}
						]}
					]
				}
			}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHook(t)
			e := newEnv(t, []Route{{Name: "r", Kind: tt.service, URL: h.URL}}, Options{})
			stop := e.run(t)
			if err := e.n.Send(context.Background(), tt.alert); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			reqs := h.requests()
			if len(reqs) != 1 {
				t.Fatalf("webhook got %d requests, want 1", len(reqs))
			}
			if reqs[0].Method != "POST" || reqs[0].ContentType != "application/json" {
				t.Errorf("got %s with Content-Type %q, want POST application/json", reqs[0].Method, reqs[0].ContentType)
			}
			if got, want := reqs[0].Body, compact(t, tt.want); got != want {
				t.Errorf("payload\n got %s\nwant %s", got, want)
			}
			if got := e.counter("sent", "r"); got != 1 {
				t.Errorf("sent = %v, want 1", got)
			}
		})
	}
}

// TestSlackLimits checks that long values are cut to Block Kit's limits and
// that fields beyond maxFields are counted instead of shown.
func TestSlackLimits(t *testing.T) {
	fields := map[string]string{}
	for i := range 45 {
		fields[fmt.Sprintf("f%02d", i)] = strings.Repeat("v", 3000)
	}
	a := Alert{Severity: SeverityWarning, Kind: KindQuality, Title: strings.Repeat("título ", 40),
		Text: strings.Repeat("ç", 5000), Fields: fields}
	var p slackPayload
	if err := json.Unmarshal(render(ServiceSlack, a), &p); err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(p.Blocks[0].Text.Text); n != slackHeaderMax {
		t.Errorf("header has %d runes, want %d", n, slackHeaderMax)
	}
	if n := utf8.RuneCountInString(p.Blocks[1].Text.Text); n != slackSectionMax {
		t.Errorf("section has %d runes, want %d", n, slackSectionMax)
	}
	shown := 0
	for _, b := range p.Blocks[2 : len(p.Blocks)-1] {
		if len(b.Fields) > slackFieldsBlock {
			t.Errorf("section with %d fields, Slack allows %d", len(b.Fields), slackFieldsBlock)
		}
		for _, f := range b.Fields {
			if utf8.RuneCountInString(f.Text) > slackFieldMax {
				t.Errorf("field of %d runes", utf8.RuneCountInString(f.Text))
			}
		}
		shown += len(b.Fields)
	}
	if shown != maxFields {
		t.Errorf("%d fields shown, want %d", shown, maxFields)
	}
	if foot := p.Blocks[len(p.Blocks)-1].Elements[0].Text; !strings.Contains(foot, "5 more fields") {
		t.Errorf("footer %q does not count the 5 hidden fields", foot)
	}
}

// FuzzRender checks that any alert text renders to valid JSON for both
// services, with Slack's header within its limit.
func FuzzRender(f *testing.F) {
	f.Add("title", "text & <b>", "k", "v")
	f.Add("\xff\xfe", strings.Repeat("é", 200), "", "\x00")
	f.Fuzz(func(t *testing.T, title, text, k, v string) {
		a := Alert{Severity: SeverityWarning, Kind: KindQuality, Title: title, Text: text, Fields: map[string]string{k: v}}
		for _, svc := range []string{ServiceSlack, ServiceTeams} {
			b := render(svc, a)
			if !json.Valid(b) || !utf8.Valid(b) {
				t.Fatalf("%s payload is not valid UTF-8 JSON: %q", svc, b)
			}
		}
		var p slackPayload
		if err := json.Unmarshal(render(ServiceSlack, a), &p); err != nil {
			t.Fatal(err)
		}
		if utf8.RuneCountInString(p.Blocks[0].Text.Text) > slackHeaderMax {
			t.Fatalf("header too long")
		}
	})
}
