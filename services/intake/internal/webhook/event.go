package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/riacho/riacho/services/intake/schemas"
)

// Event is one record the intake produces: a parsed source event with its original payload.
type Event struct {
	Topic  string         // e.g. "raw.whatsapp.messages"
	Key    []byte         // Kafka key: the source event id (see per-source rules)
	ID     string         // riacho-event-id header: stable across re-deliveries of the same source event
	Source string         // riacho-source header, e.g. "whatsapp"
	Time   time.Time      // event time (UTC); the receive time when the source gives none
	Value  map[string]any // goavro native value matching Schema (nullable unions wrapped as goavro expects: map[string]any{"string": v} or nil)
	Schema string         // the .avsc text of Topic's value schema (from package schemas)

	arena *recordArena // owns Value's maps when the parser opted in to recycling (ReleaseEvents)
}

// Fixed topics of the webhook sources.
const (
	// TopicWhatsAppMessages receives one event per WhatsApp message.
	TopicWhatsAppMessages = "raw.whatsapp.messages"
	// TopicWhatsAppStatuses receives one event per WhatsApp message status.
	TopicWhatsAppStatuses = "raw.whatsapp.statuses"
	// TopicWhatsAppEvents receives every other WhatsApp Business Account change.
	TopicWhatsAppEvents = "raw.whatsapp.events"
	// TopicMetaLeads receives one event per Meta Lead Ads leadgen change.
	TopicMetaLeads = "raw.meta.leads"
	// TopicMetaEvents receives every other Meta page change.
	TopicMetaEvents = "raw.meta.events"
)

// GenericSchema is the value schema (riacho.raw.RawEvent) of generic JSON and spreadsheet topics.
var GenericSchema = schemas.RawEvent

// KnownTopics returns every fixed topic the parsers can produce with its value schema, so the
// intake can create topics and register schemas at start-up. Generic and upload topics
// (raw.<source>.<entity>, schema GenericSchema) and unknown Ploomes entities are not in it.
func KnownTopics() map[string]string {
	out := map[string]string{
		TopicWhatsAppMessages: schemas.WhatsAppMessage,
		TopicWhatsAppStatuses: schemas.WhatsAppStatus,
		TopicWhatsAppEvents:   schemas.WhatsAppEvent,
		TopicMetaLeads:        schemas.MetaLead,
		TopicMetaEvents:       schemas.MetaEvent,
	}
	for _, t := range PloomesTopics() {
		out[t] = schemas.PloomesChange
	}
	return out
}

// newRecord starts a value map with the common fields every raw schema begins with.
func newRecord(size int, id, source, entity string, receivedAt, eventTime time.Time, payload []byte) map[string]any {
	m := make(map[string]any, size)
	setCommon(m, id, source, entity, receivedAt, eventTime, string(payload))
	return m
}

// setCommon sets the common fields every raw schema begins with.
func setCommon(m map[string]any, id, source, entity string, receivedAt, eventTime time.Time, payload string) {
	m["event_id"] = id
	m["source"] = source
	m["entity"] = entity
	m["received_at"] = receivedAt
	m["event_time"] = eventTime
	m["payload"] = payload
}

// newEvent wraps a value map into an Event whose key is its id.
func newEvent(topic, id, source string, t time.Time, value map[string]any, schema string) Event {
	return Event{Topic: topic, Key: []byte(id), ID: id, Source: source, Time: t, Value: value, Schema: schema}
}

// optString is a nullable string union value; the empty string is null.
func optString(s string) any { return (*recordArena)(nil).optString(s) }

// optRaw is a nullable string union value holding raw JSON bytes; empty or JSON null is null.
func optRaw(b []byte) any { return (*recordArena)(nil).optRaw(b) }

// optLong is a nullable long union value.
func optLong(v int64, ok bool) any { return (*recordArena)(nil).optLong(v, ok) }

// optTime is a nullable timestamp-micros union value; the zero time is null.
func optTime(t time.Time) any { return (*recordArena)(nil).optTime(t) }

// hashHex returns the hex SHA-256 of the parts joined by sep.
func hashHex(sep string, parts ...[]byte) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte(sep))
		}
		h.Write(p)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}
