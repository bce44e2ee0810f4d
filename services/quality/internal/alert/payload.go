package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Block Kit and card limits (characters).
const (
	slackHeaderMax   = 150
	slackSectionMax  = 3000
	slackFieldMax    = 2000
	slackFieldsBlock = 10 // fields per section block
	maxFields        = 40 // fields rendered; the rest are counted in the footer
	teamsTextMax     = 10000
)

// render returns the JSON body for service.
func render(service string, a Alert) []byte {
	var v any
	if service == ServiceTeams {
		v = teamsMessage(a)
	} else {
		v = slackMessage(a)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only strings, slices and maps of strings: encoding cannot fail.
		panic(fmt.Sprintf("alert: encode payload: %v", err))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackMessage builds a Block Kit message: header (title), section (text),
// sections of fields, and a context line with severity and kind. "text" is
// the notification fallback.
func slackMessage(a Alert) slackPayload {
	p := slackPayload{
		Text: fmt.Sprintf("[%s] %s: %s", strings.ToUpper(a.Severity), a.Kind, slackEscape(a.Title)),
	}
	p.Blocks = append(p.Blocks, slackBlock{Type: "header",
		Text: &slackText{Type: "plain_text", Text: truncate(a.Title, slackHeaderMax)}})
	if a.Text != "" {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section",
			Text: &slackText{Type: "mrkdwn", Text: truncate(slackEscape(a.Text), slackSectionMax)}})
	}
	names, more := fieldNames(a.Fields)
	for chunk := range slices.Chunk(names, slackFieldsBlock) {
		b := slackBlock{Type: "section"}
		for _, n := range chunk {
			b.Fields = append(b.Fields, slackText{Type: "mrkdwn",
				Text: truncate("*"+slackEscape(n)+"*\n"+slackEscape(a.Fields[n]), slackFieldMax)})
		}
		p.Blocks = append(p.Blocks, b)
	}
	footer := fmt.Sprintf("severity: *%s* | kind: *%s*", a.Severity, a.Kind)
	if more > 0 {
		footer += fmt.Sprintf(" | %d more fields not shown", more)
	}
	p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: footer}}})
	return p
}

// slackEscape escapes the three characters Slack reserves for its markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsElement struct {
	Type   string      `json:"type"`
	Text   string      `json:"text,omitempty"`
	Weight string      `json:"weight,omitempty"`
	Size   string      `json:"size,omitempty"`
	Color  string      `json:"color,omitempty"`
	Wrap   bool        `json:"wrap,omitempty"`
	Facts  []teamsFact `json:"facts,omitempty"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []teamsElement `json:"body"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsPayload struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

// teamsMessage builds a message with one Adaptive Card: the title coloured
// by severity, the text, and a fact set with severity, kind and the fields.
func teamsMessage(a Alert) teamsPayload {
	color := map[string]string{SeverityCritical: "Attention", SeverityWarning: "Warning"}[a.Severity]
	if color == "" {
		color = "Default"
	}
	body := []teamsElement{{Type: "TextBlock", Text: truncate(a.Title, slackHeaderMax), Weight: "Bolder", Size: "Medium", Color: color, Wrap: true}}
	if a.Text != "" {
		body = append(body, teamsElement{Type: "TextBlock", Text: truncate(a.Text, teamsTextMax), Wrap: true})
	}
	facts := []teamsFact{{Title: "severity", Value: a.Severity}, {Title: "kind", Value: a.Kind}}
	names, more := fieldNames(a.Fields)
	for _, n := range names {
		facts = append(facts, teamsFact{Title: truncate(n, slackHeaderMax), Value: truncate(a.Fields[n], slackFieldMax)})
	}
	if more > 0 {
		facts = append(facts, teamsFact{Title: "…", Value: fmt.Sprintf("%d more fields not shown", more)})
	}
	body = append(body, teamsElement{Type: "FactSet", Facts: facts})
	return teamsPayload{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive",
		Content: teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json",
			Type: "AdaptiveCard", Version: "1.2", Body: body},
	}}}
}

// fieldNames returns up to maxFields sorted field names and how many were
// left out.
func fieldNames(f map[string]string) ([]string, int) {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) > maxFields {
		return names[:maxFields], len(names) - maxFields
	}
	return names, 0
}

// truncate cuts s to at most max runes, ending in "…" when cut, and replaces
// invalid UTF-8.
func truncate(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
