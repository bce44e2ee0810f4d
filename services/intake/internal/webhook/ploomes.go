package webhook

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/services/intake/schemas"
)

const sourcePloomes = "ploomes"

// ploomesUnknown is the entity of notifications whose entity is missing or unreadable.
const ploomesUnknown = "unknown"

// ploomesEntityIDs maps Ploomes webhook EntityId values to topic entities.
var ploomesEntityIDs = map[int64]string{
	1: "contacts", 2: "deals", 4: "orders", 7: "quotes", 10: "products", 12: "tasks", 36: "interaction_records",
}

// ploomesEntityNames maps folded entity names (ASCII, lowercase, letters and digits only;
// English API names and the Portuguese names of Ploomes' UI, singular and plural) to topic entities.
var ploomesEntityNames = map[string]string{
	"contact": "contacts", "contacts": "contacts", "cliente": "contacts", "clientes": "contacts",
	"deal": "deals", "deals": "deals", "negocio": "deals", "negocios": "deals",
	"quote": "quotes", "quotes": "quotes", "proposta": "quotes", "propostas": "quotes",
	"order": "orders", "orders": "orders", "venda": "orders", "vendas": "orders",
	"task": "tasks", "tasks": "tasks", "tarefa": "tasks", "tarefas": "tasks",
	"interactionrecord": "interaction_records", "interactionrecords": "interaction_records",
	"registrodecontato": "interaction_records", "registrosdecontato": "interaction_records",
	"product": "products", "products": "products", "produto": "products", "produtos": "products",
	"user": "users", "users": "users", "usuario": "users", "usuarios": "users",
}

// PloomesTopics returns the Ploomes topics known in advance (every mapped entity and
// raw.ploomes.unknown), sorted, for creation at start-up. Unknown entity names produce other
// raw.ploomes.<entity> topics at run time.
func PloomesTopics() []string {
	seen := map[string]bool{ploomesUnknown: true}
	for _, e := range ploomesEntityNames {
		seen[e] = true
	}
	out := make([]string, 0, len(seen))
	for e := range seen {
		out = append(out, "raw.ploomes."+e)
	}
	sort.Strings(out)
	return out
}

// ploomesNote is a Ploomes webhook notification read leniently: every field is raw JSON so an
// unexpected type never rejects the notification. Field names match case-insensitively.
type ploomesNote struct {
	Action        json.RawMessage `json:"Action"`
	ActionID      json.RawMessage `json:"ActionId"`
	Entity        json.RawMessage `json:"Entity"`
	EntityID      json.RawMessage `json:"EntityId"`
	ResourceID    json.RawMessage `json:"ResourceId"`
	UserID        json.RawMessage `json:"UserId"`
	ValidationKey json.RawMessage `json:"ValidationKey"`
	Old           json.RawMessage `json:"Old"`
	New           json.RawMessage `json:"New"`
}

// ploomesRecord is the part of an Old or New record the parser reads.
type ploomesRecord struct {
	ID             json.RawMessage `json:"Id"`
	LastUpdateDate json.RawMessage `json:"LastUpdateDate"`
}

// CheckPloomesKey authenticates a Ploomes webhook, which has no HMAC: the validation key comes
// from the X-Ploomes-Validation-Key header when present, else from the body's ValidationKey
// (every notification of an array must carry it). Keys are compared in constant time.
// It returns ErrMissingValidationKey when no key is found and ErrBadValidationKey on a
// mismatch or when want is empty (fail closed).
func CheckPloomesKey(header string, body []byte, want string) error {
	if want == "" {
		return fmt.Errorf("no validation key configured: %w", ErrBadValidationKey)
	}
	wantSum := sha256.Sum256([]byte(want))
	if header = strings.TrimSpace(header); header != "" {
		got := sha256.Sum256([]byte(header))
		if subtle.ConstantTimeCompare(got[:], wantSum[:]) != 1 {
			return fmt.Errorf("header key does not match: %w", ErrBadValidationKey)
		}
		return nil
	}
	notes, err := ploomesSplit(body)
	if err != nil || len(notes) == 0 {
		return fmt.Errorf("no header and no readable body: %w", ErrMissingValidationKey)
	}
	for i, raw := range notes {
		var n ploomesNote
		var key string
		if jsonKind(raw) != "object" || json.Unmarshal(raw, &n) != nil || json.Unmarshal(n.ValidationKey, &key) != nil || key == "" {
			return fmt.Errorf("notification %d has no ValidationKey: %w", i, ErrMissingValidationKey)
		}
		got := sha256.Sum256([]byte(key))
		if subtle.ConstantTimeCompare(got[:], wantSum[:]) != 1 {
			return fmt.Errorf("notification %d key does not match: %w", i, ErrBadValidationKey)
		}
	}
	return nil
}

// ploomesSplit returns the notifications of a body: the elements of an array, else the body.
func ploomesSplit(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if trimmed[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(trimmed, &arr); err != nil {
			return nil, malformed("ploomes body", err)
		}
		return arr, nil
	}
	if !json.Valid(trimmed) {
		var v json.RawMessage
		return nil, malformed("ploomes body", json.Unmarshal(trimmed, &v))
	}
	return []json.RawMessage{trimmed}, nil
}

// ParsePloomes turns a Ploomes webhook body (one notification or an array of them, in the
// {Action, Entity, Old, New} or {ResourceId, Entity, Action, ValidationKey, UserId} shapes)
// into one event per notification on raw.ploomes.<entity>, the entity mapped from the Entity
// name or EntityId (Deal -> deals, 2 -> deals, ...; other names snake_case plural; none ->
// unknown). Unknown shapes are kept with entity unknown, never rejected; only a body that is
// not JSON is ErrMalformed. The payload keeps the original bytes, ValidationKey included:
// the raw zone must hold the secret-bearing notification as received.
//
// ID (and key): entity + ":" + resource_id + ":" + action + ":" + New.LastUpdateDate, with the
// hex SHA-256 of the notification bytes in place of LastUpdateDate when there is none; an
// absent resource id or action is the empty string. resource_id is New.Id, else ResourceId,
// else Old.Id (deletes). The event time is New.LastUpdateDate (an offset-less time is read
// as America/Sao_Paulo), else receivedAt.
func ParsePloomes(body []byte, receivedAt time.Time) ([]Event, error) {
	receivedAt = receivedAt.UTC()
	notes, err := ploomesSplit(body)
	if err != nil {
		return nil, err
	}
	events := make([]Event, 0, len(notes))
	for _, raw := range notes {
		events = append(events, ploomesEvent(raw, receivedAt))
	}
	return events, nil
}

// ploomesEvent builds the event of one notification.
func ploomesEvent(raw json.RawMessage, receivedAt time.Time) Event {
	var n ploomesNote
	if jsonKind(raw) == "object" {
		_ = json.Unmarshal(raw, &n) // cannot fail on valid JSON: every field is raw
	}
	origEntity, entity := ploomesEntity(n.Entity, n.EntityID)
	action, _ := scalarText(n.Action)
	if action == "" {
		action, _ = scalarText(n.ActionID)
	}
	var newRec, oldRec ploomesRecord
	if jsonKind(n.New) == "object" {
		_ = json.Unmarshal(n.New, &newRec)
	}
	if jsonKind(n.Old) == "object" {
		_ = json.Unmarshal(n.Old, &oldRec)
	}
	resID, hasRes := int64(0), false
	for _, cand := range []json.RawMessage{newRec.ID, n.ResourceID, oldRec.ID} {
		if s, ok := scalarText(cand); ok {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil {
				resID, hasRes = v, true
				break
			}
		}
	}
	userText, _ := scalarText(n.UserID)
	userID, uerr := strconv.ParseInt(userText, 10, 64)

	lastText, _ := scalarText(newRec.LastUpdateDate)
	lastUpdate, _ := parsePloomesTime(lastText)
	t := receivedAt
	if !lastUpdate.IsZero() {
		t = lastUpdate
	}
	version := lastText
	if version == "" {
		version = hashHex("", raw)
	}
	resText := ""
	if hasRes {
		resText = strconv.FormatInt(resID, 10)
	}
	id := entity + ":" + resText + ":" + action + ":" + version

	rec := newRecord(13, id, sourcePloomes, entity, receivedAt, t, raw)
	rec["action"] = optString(action)
	rec["ploomes_entity"] = optString(origEntity)
	rec["resource_id"] = optLong(resID, hasRes)
	rec["user_id"] = optLong(userID, uerr == nil)
	rec["last_update"] = optTime(lastUpdate)
	rec["old"] = optRaw(n.Old)
	rec["new"] = optRaw(n.New)
	return newEvent("raw.ploomes."+entity, id, sourcePloomes, t, rec, schemas.PloomesChange)
}

// ploomesEntity returns the entity as sent (name or id, as text) and its topic entity.
func ploomesEntity(entity, entityID json.RawMessage) (orig, mapped string) {
	orig, _ = scalarText(entity)
	if orig == "" {
		orig, _ = scalarText(entityID)
	}
	orig = strings.TrimSpace(orig)
	if orig == "" {
		return "", ploomesUnknown
	}
	if allDigits(orig) {
		id, err := strconv.ParseInt(orig, 10, 64)
		if e, ok := ploomesEntityIDs[id]; ok && err == nil {
			return orig, e
		}
		return orig, "entity_" + truncateDigits(orig)
	}
	folded := strings.ToLower(foldASCII(orig))
	key := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, folded)
	if e, ok := ploomesEntityNames[key]; ok {
		return orig, e
	}
	name := strings.TrimLeft(snakeCase(orig, 62), "0123456789_")
	if name == "" {
		return orig, ploomesUnknown
	}
	if !strings.HasSuffix(name, "s") {
		name += "s"
	}
	return orig, name
}

// truncateDigits keeps an entity id short enough for a valid name.
func truncateDigits(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	if len(s) > 50 {
		s = s[:50]
	}
	return s
}

// scalarText returns a JSON string's text or a JSON number's literal; ok is false otherwise.
func scalarText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw), true
	}
	return "", false
}

// parsePloomesTime parses Ploomes' ISO 8601 times ("2026-04-30T10:00:00-03:00", with or
// without fraction); a time without offset is read as America/Sao_Paulo.
func parsePloomesTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, saoPaulo()); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
