package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/riacho/riacho/services/intake/schemas"
)

const sourceMeta = "meta"

// metaEnvelope is a Meta page webhook body.
type metaEnvelope struct {
	Object string      `json:"object"`
	Entry  []metaEntry `json:"entry"`
}

type metaEntry struct {
	ID      flexString        `json:"id"`
	Time    flexString        `json:"time"`
	Changes []json.RawMessage `json:"changes"`
}

// metaChange is a change's head.
type metaChange struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// metaLead is a leadgen change's value.
type metaLead struct {
	LeadgenID   flexString `json:"leadgen_id"`
	PageID      flexString `json:"page_id"`
	FormID      flexString `json:"form_id"`
	AdgroupID   flexString `json:"adgroup_id"`
	AdID        flexString `json:"ad_id"`
	CreatedTime flexString `json:"created_time"`
}

// ParseMetaLeads turns a Meta page webhook (object "page") into events: one per
// entry[].changes[] with field leadgen on raw.meta.leads (ID = leadgen_id, event time =
// created_time, payload = the change's value object), and one per change of any other field
// on raw.meta.events (payload = the change object). The webhook carries no personal data;
// the lead's field_data is fetched from the Graph API by leadgen_id.
//
// A body that is not JSON, a leadgen value without leadgen_id or with a bad created_time is an
// error wrapping ErrMalformed that says where; another object is ErrUnsupportedObject.
func ParseMetaLeads(body []byte, receivedAt time.Time) ([]Event, error) {
	receivedAt = receivedAt.UTC()
	var env metaEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformed("meta body", err)
	}
	if env.Object != "page" {
		return nil, fmt.Errorf("object %q, want \"page\": %w", truncate(env.Object, 64), ErrUnsupportedObject)
	}
	var events []Event
	for i := range env.Entry {
		entry := &env.Entry[i]
		for j, raw := range entry.Changes {
			var ch metaChange
			if err := json.Unmarshal(raw, &ch); err != nil {
				return nil, malformed(fmt.Sprintf("entry[%d].changes[%d]", i, j), err)
			}
			if ch.Field != "leadgen" {
				events = append(events, changeEvent(nil, sourceMeta, TopicMetaEvents, schemas.MetaEvent,
					"page_id", string(entry.ID), string(entry.Time), ch.Field, ch.Value, raw, string(raw), receivedAt))
				continue
			}
			ev, err := metaLeadEvent(entry, ch.Value, receivedAt)
			if err != nil {
				return nil, fmt.Errorf("entry[%d].changes[%d].value: %w", i, j, err)
			}
			events = append(events, ev)
		}
	}
	return events, nil
}

// metaLeadEvent builds the raw.meta.leads event of one leadgen value.
func metaLeadEvent(entry *metaEntry, raw json.RawMessage, receivedAt time.Time) (Event, error) {
	if jsonKind(raw) != "object" {
		return Event{}, fmt.Errorf("%w: leadgen value is %s, want an object", ErrMalformed, jsonKind(raw))
	}
	var l metaLead
	if err := json.Unmarshal(raw, &l); err != nil {
		return Event{}, malformed("leadgen", err)
	}
	if l.LeadgenID == "" {
		return Event{}, fmt.Errorf("%w: leadgen_id missing", ErrMalformed)
	}
	t, err := parseMetaTime(string(l.CreatedTime))
	if err != nil {
		return Event{}, fmt.Errorf("%w: created_time: %w", ErrMalformed, err)
	}
	if t.IsZero() {
		t = receivedAt
	}
	page := string(l.PageID)
	if page == "" {
		page = string(entry.ID)
	}
	id := string(l.LeadgenID)
	rec := newRecord(11, id, sourceMeta, "leads", receivedAt, t, raw)
	rec["leadgen_id"] = id
	rec["page_id"] = optString(page)
	rec["form_id"] = optString(string(l.FormID))
	rec["adgroup_id"] = optString(string(l.AdgroupID))
	rec["ad_id"] = optString(string(l.AdID))
	return newEvent(TopicMetaLeads, id, sourceMeta, t, rec, schemas.MetaLead), nil
}

// parseMetaTime parses unix seconds (the webhook's created_time) or the Graph API's
// "2006-01-02T15:04:05+0000" / RFC 3339 forms; empty is the zero time.
func parseMetaTime(s string) (time.Time, error) {
	if s == "" || allDigits(s) {
		return parseUnixSeconds(s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want unix seconds or an ISO 8601 time, got %q", truncate(strings.TrimSpace(s), 40))
}
