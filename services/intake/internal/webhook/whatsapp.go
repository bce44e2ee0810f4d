package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/riacho/riacho/services/intake/schemas"
)

const (
	sourceWhatsApp = "whatsapp"
	waObject       = "whatsapp_business_account"
)

// ParseWhatsApp turns a WhatsApp Business Cloud API notification (object
// whatsapp_business_account; Meta batches up to 1000 updates per POST) into events: one per
// message on raw.whatsapp.messages (ID = message id), one per status on raw.whatsapp.statuses
// (ID = status id + ":" + status), and one per change of any other field (for example
// message_template_status_update), or per messages change carrying neither messages nor
// statuses or carrying value.errors, on raw.whatsapp.events, so nothing is dropped. Every
// message type is kept, unknown future ones with their type and payload.
//
// A body that is not JSON, a known field of the wrong JSON type, a message or status without
// its id, or a timestamp that is not unix seconds is an error wrapping ErrMalformed that says
// where (byte offset or field path); another object is ErrUnsupportedObject. The body must have
// been checked with VerifySignature first. Once nothing reads the events any more, ReleaseEvents
// lets later calls reuse their value maps.
func ParseWhatsApp(body []byte, receivedAt time.Time) ([]Event, error) {
	p := waParser{receivedAt: receivedAt.UTC(), scratch: waScratchPool.Get().(*waEntryData)}
	defer waScratchPool.Put(p.scratch)
	s := &jsonScanner{b: body, text: string(body)}
	var object string
	var shapeErr error
	err := s.object(func(key []byte) error {
		var err error
		s.ws()
		start := s.i
		switch string(key) {
		case "object":
			err = s.str(&object)
		case "entry":
			if null, nerr := s.null(); null || nerr != nil {
				return nerr
			}
			err = s.array(func(i int) error {
				e := p.scratch.reset()
				if err := p.entry(s, e); err != nil {
					return err
				}
				return p.entryEvents(e)
			})
		default:
			return s.skipValue()
		}
		if err != nil && isShapeError(err) {
			// Keep scanning: whether the body is a WhatsApp one decides which error wins.
			if shapeErr == nil {
				shapeErr = inPath(err, string(key))
			}
			s.i = start
			return s.skipValue()
		}
		return err
	})
	if err == nil {
		err = s.end()
	}
	if err != nil || object != waObject || shapeErr != nil {
		ReleaseEvents(p.events) // nothing will read them
	}
	switch {
	case err != nil:
		return nil, malformedScan(err)
	case object != waObject:
		return nil, fmt.Errorf("object %q, want %q: %w", truncate(object, 64), waObject, ErrUnsupportedObject)
	case shapeErr != nil:
		return nil, malformedScan(shapeErr)
	}
	return p.events, nil
}

// isShapeError reports whether err is (or wraps) a *jsonShapeError.
func isShapeError(err error) bool {
	var shape *jsonShapeError
	return errors.As(err, &shape)
}

// malformedScan wraps a scanner error in ErrMalformed.
func malformedScan(err error) error {
	var se *jsonShapeError
	if errors.As(err, &se) && se.path == "" {
		se.path = "body"
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// waParser accumulates the events of one notification.
type waParser struct {
	receivedAt time.Time
	events     []Event
	scratch    *waEntryData // decodes each entry in turn
}

// waEntryData is one decoded entry[].
type waEntryData struct {
	id      string
	time    string
	changes []waChange
}

// waScratchPool holds entry decoding state between parses, so that its slices (changes, and
// within them contacts, messages and statuses) keep their room. Nothing in the events a parse
// returns points into it.
var waScratchPool = sync.Pool{New: func() any { return new(waEntryData) }}

// reset empties e for the next entry, keeping the room of its slices.
func (e *waEntryData) reset() *waEntryData {
	e.id, e.time, e.changes = "", "", e.changes[:0]
	return e
}

// nextChange extends e.changes by an empty change and returns it; room left by an earlier
// parse is reused, with the room of the change's own slices.
func (e *waEntryData) nextChange() *waChange {
	n := len(e.changes)
	if n == cap(e.changes) {
		e.changes = append(e.changes, waChange{})
		return &e.changes[n]
	}
	e.changes = e.changes[:n+1]
	c := &e.changes[n]
	v := &c.v
	*c = waChange{v: waValue{contacts: v.contacts[:0], messages: v.messages[:0], statuses: v.statuses[:0]}}
	return c
}

// nextMessage extends v.messages by an empty message and returns it, reusing room as
// nextChange does.
func (v *waValue) nextMessage() *waMessage {
	n := len(v.messages)
	if n == cap(v.messages) {
		v.messages = append(v.messages, waMessage{})
		return &v.messages[n]
	}
	v.messages = v.messages[:n+1]
	m := &v.messages[n]
	*m = waMessage{orderItems: m.orderItems[:0]}
	return m
}

// nextZero extends *s by a zero element and returns it, reusing room left in *s.
func nextZero[T any](s *[]T) *T {
	var zero T
	n := len(*s)
	if n == cap(*s) {
		*s = append(*s, zero)
	} else {
		*s = (*s)[:n+1]
		(*s)[n] = zero
	}
	return &(*s)[n]
}

// entryEvents appends the events of a decoded entry; errors are shape errors with a path.
func (p *waParser) entryEvents(e *waEntryData) error {
	for j := range e.changes {
		c := &e.changes[j]
		if c.field != "messages" {
			p.events = append(p.events, changeEvent(waEventArenas.get(), sourceWhatsApp, TopicWhatsAppEvents, schemas.WhatsAppEvent,
				"waba_id", e.id, e.time, c.field, c.value, c.raw, c.rawText, p.receivedAt))
			continue
		}
		if c.shapeErr != nil {
			return inPath(c.shapeErr, fmt.Sprintf("changes[%d]", j))
		}
		v := &c.v
		if len(v.messages) == 0 && len(v.statuses) == 0 || len(v.errors) > 0 && string(v.errors) != "null" {
			p.events = append(p.events, changeEvent(waEventArenas.get(), sourceWhatsApp, TopicWhatsAppEvents, schemas.WhatsAppEvent,
				"waba_id", e.id, e.time, c.field, c.value, c.raw, c.rawText, p.receivedAt))
		}
		for k := range v.messages {
			ev, err := whatsAppMessage(e, v, &v.messages[k], p.receivedAt)
			if err != nil {
				return inPath(err, fmt.Sprintf("changes[%d].value.messages[%d]", j, k))
			}
			p.events = append(p.events, ev)
		}
		for k := range v.statuses {
			ev, err := whatsAppStatus(e, v, &v.statuses[k], p.receivedAt)
			if err != nil {
				return inPath(err, fmt.Sprintf("changes[%d].value.statuses[%d]", j, k))
			}
			p.events = append(p.events, ev)
		}
	}
	return nil
}

// fieldError is a semantic problem with one field, reported like a shape error.
func fieldError(field, format string, args ...any) error {
	return &jsonShapeError{path: field, msg: fmt.Sprintf(format, args...)}
}

// changeEvent keeps a whole change object on an events topic; its id hashes the source, the
// entry id and the change bytes; its time is entry.time when readable, else receivedAt.
func changeEvent(a *recordArena, source, topic, schema, idField, entryID, entryTime, field string, value, raw []byte, rawText string, receivedAt time.Time) Event {
	id := hashHex("\x00", []byte(source), []byte(entryID), raw)
	t := receivedAt
	if et, ok := parseUnixLoose(entryTime); ok {
		t = et
	}
	rec := a.record(9, id, source, entityOf(topic), receivedAt, t, rawText)
	rec[idField] = a.optString(entryID)
	rec["field"] = field
	rec["value"] = a.optRaw(value)
	ev := newEvent(topic, id, source, t, rec, schema)
	ev.arena = a
	return ev
}

// entityOf returns the last dot-separated part of a topic name.
func entityOf(topic string) string {
	for i := len(topic) - 1; i >= 0; i-- {
		if topic[i] == '.' {
			return topic[i+1:]
		}
	}
	return topic
}

// whatsAppMessage builds the raw.whatsapp.messages event of one decoded message.
func whatsAppMessage(e *waEntryData, v *waValue, m *waMessage, receivedAt time.Time) (Event, error) {
	if m.id == "" {
		return Event{}, fieldError("id", "message without id")
	}
	t, err := parseUnixSeconds(m.timestamp)
	if err != nil {
		return Event{}, fieldError("timestamp", "%v", err)
	}
	if t.IsZero() {
		t = receivedAt
	}
	a := waMessageArenas.get()
	rec := a.record(46, m.id, sourceWhatsApp, "messages", receivedAt, t, m.raw)
	rec["waba_id"] = a.optString(e.id)
	rec["phone_number_id"] = a.optString(v.phoneNumberID)
	rec["display_phone_number"] = a.optString(v.displayPhoneNumber)
	rec["from"] = a.optString(m.from)
	var c waContact
	if match := matchContact(v.contacts, m.from, m.fromUserID); match != nil {
		c = *match
	}
	rec["wa_id"] = a.optString(c.waID)
	rec["username"] = a.optString(c.username)
	rec["contact_name"] = a.optString(c.name)
	userID := m.fromUserID
	if userID == "" {
		userID = c.userID
	}
	rec["user_id"] = a.optString(userID)
	rec["message_id"] = m.id
	rec["type"] = m.typ
	setMessageBody(a, rec, m)
	ev := newEvent(TopicWhatsAppMessages, m.id, sourceWhatsApp, t, rec, schemas.WhatsAppMessage)
	ev.arena = a
	return ev, nil
}

// setMessageBody sets the type-specific fields of a message record (null when absent).
func setMessageBody(a *recordArena, rec map[string]any, m *waMessage) {
	rec["context_from"] = a.optString(m.contextFrom)
	rec["context_id"] = a.optString(m.contextID)
	rec["forwarded"] = nil
	if m.hasContext {
		rec["forwarded"] = a.union(unionBoolean, m.forwarded || m.frequentlyForwarded)
	}
	rec["text_body"] = a.optString(m.textBody)
	rec["media_id"] = a.optString(m.media.id)
	rec["mime_type"] = a.optString(m.media.mimeType)
	rec["sha256"] = a.optString(m.media.sha256)
	rec["caption"] = a.optString(m.media.caption)
	rec["filename"] = a.optString(m.media.filename)
	rec["latitude"] = a.optDouble(parseFloat(m.latitude))
	rec["longitude"] = a.optDouble(parseFloat(m.longitude))
	rec["location_name"] = a.optString(m.locationName)
	rec["location_address"] = a.optString(m.locationAddress)
	rec["interactive_type"] = a.optString(m.interactiveType)
	rec["interactive_reply_id"] = a.optString(m.reply.id)
	rec["interactive_reply_title"] = a.optString(m.reply.title)
	rec["interactive_reply_description"] = a.optString(m.reply.description)
	rec["button_payload"] = a.optString(m.buttonPayload)
	rec["button_text"] = a.optString(m.buttonText)
	rec["reaction_message_id"] = a.optString(m.reactionID)
	rec["reaction_emoji"] = a.optString(m.reactionEmoji)
	setOrder(rec, m)
	r := &m.referral
	rec["referral_source_type"] = a.optString(r.sourceType)
	rec["referral_source_id"] = a.optString(r.sourceID)
	rec["referral_source_url"] = a.optString(r.sourceURL)
	rec["referral_ctwa_clid"] = a.optString(r.ctwaClid)
	rec["referral_headline"] = a.optString(r.headline)
	rec["errors"] = a.optRaw(m.errors)
}

// setOrder sets the order fields; prices become decimal(18,4) and are null when unusable.
func setOrder(rec map[string]any, m *waMessage) {
	rec["order_catalog_id"] = optString(m.orderCatalogID)
	rec["order_text"] = optString(m.orderText)
	rec["order_items"] = nil
	if !m.hasOrderItems {
		return
	}
	items := make([]any, len(m.orderItems))
	for i, it := range m.orderItems {
		q, qok := parseInt(it.quantity)
		var price any
		if r, ok := decimalRat(it.itemPrice, 4, 18); ok {
			price = map[string]any{"bytes.decimal": r}
		}
		items[i] = map[string]any{
			"product_retailer_id": optString(it.productRetailerID),
			"quantity":            optLong(q, qok),
			"item_price":          price,
			"currency":            optString(it.currency),
		}
	}
	rec["order_items"] = map[string]any{"array": items}
}

// matchContact finds the value.contacts[] entry of a message's sender: same wa_id (Brazilian
// numbers also with or without the mobile ninth digit), same user id, or the only contact.
func matchContact(contacts []waContact, from, fromUserID string) *waContact {
	for i := range contacts {
		c := &contacts[i]
		if from != "" && c.waID != "" && samePhone(c.waID, from) {
			return c
		}
		if fromUserID != "" && c.userID == fromUserID {
			return c
		}
	}
	if len(contacts) == 1 {
		return &contacts[0]
	}
	return nil
}

// samePhone reports whether two WhatsApp ids are the same number, treating a Brazilian mobile
// with the ninth digit (55 DD 9XXXXXXXX) and without it (55 DD XXXXXXXX, first digit 6-9) as equal.
func samePhone(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a) != 13 || len(b) != 12 || a[:2] != "55" || a[4] != '9' {
		return false
	}
	return a[:4] == b[:4] && a[5:] == b[4:] && b[4] >= '6'
}

// whatsAppStatus builds the raw.whatsapp.statuses event of one decoded status.
func whatsAppStatus(e *waEntryData, v *waValue, st *waStatus, receivedAt time.Time) (Event, error) {
	if st.id == "" || st.status == "" {
		return Event{}, fieldError("id", "status without id or status")
	}
	t, err := parseUnixSeconds(st.timestamp)
	if err != nil {
		return Event{}, fieldError("timestamp", "%v", err)
	}
	if t.IsZero() {
		t = receivedAt
	}
	exp, err := parseUnixSeconds(st.conversationExpiration)
	if err != nil {
		return Event{}, fieldError("conversation.expiration_timestamp", "%v", err)
	}
	id := st.id + ":" + st.status
	a := waStatusArenas.get()
	rec := a.record(24, id, sourceWhatsApp, "statuses", receivedAt, t, st.raw)
	rec["waba_id"] = a.optString(e.id)
	rec["phone_number_id"] = a.optString(v.phoneNumberID)
	rec["display_phone_number"] = a.optString(v.displayPhoneNumber)
	rec["status_id"] = st.id
	rec["status"] = st.status
	rec["recipient_id"] = a.optString(st.recipientID)
	rec["recipient_user_id"] = a.optString(st.recipientUserID)
	rec["biz_opaque_callback_data"] = a.optString(st.bizOpaqueCallbackData)
	rec["conversation_id"] = a.optString(st.conversationID)
	rec["conversation_origin_type"] = a.optString(st.conversationOriginType)
	rec["conversation_expiration"] = a.optTime(exp)
	rec["pricing_billable"] = a.optBool(st.pricingBillable)
	rec["pricing_model"] = a.optString(st.pricingModel)
	rec["pricing_category"] = a.optString(st.pricingCategory)
	rec["pricing_type"] = a.optString(st.pricingType)
	rec["errors"] = a.optRaw(st.errors)
	rec["error_code"], rec["error_title"] = nil, nil
	var errs []struct {
		Code  json.Number `json:"code"`
		Title string      `json:"title"`
	}
	if len(st.errors) > 0 && json.Unmarshal(st.errors, &errs) == nil && len(errs) > 0 {
		code, cerr := errs[0].Code.Int64()
		rec["error_code"] = a.optLong(code, cerr == nil)
		rec["error_title"] = a.optString(errs[0].Title)
	}
	ev := newEvent(TopicWhatsAppStatuses, id, sourceWhatsApp, t, rec, schemas.WhatsAppStatus)
	ev.arena = a
	return ev, nil
}

// parseFloat parses a non-empty finite number; empty text is absent without an error value.
func parseFloat(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

// parseInt parses a non-empty base-10 int64.
func parseInt(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
