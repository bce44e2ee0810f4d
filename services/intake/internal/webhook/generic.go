package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// genericTimes names the fields, in order of preference, that give a generic event its time.
type genericTimes struct {
	EventTime json.RawMessage `json:"event_time"`
	Timestamp json.RawMessage `json:"timestamp"`
	CreatedAt json.RawMessage `json:"created_at"`
}

// ParseGeneric turns a generic JSON body, one object or an array of objects, into one
// RawEvent (GenericSchema) per object on raw.<source>.<entity>. Source and entity must be
// valid names (ErrBadName); any other JSON value, or an array element that is not an object,
// is ErrMalformed.
//
// The ID is idempotencyKey when given (with ":" + the 0-based index for arrays of more than one
// object), else the hex SHA-256 of source + "/" + entity + "/" + the object's bytes, so
// identical re-deliveries share it. The event time is the object's first RFC 3339 string among
// "event_time", "timestamp" and "created_at" (matched case-insensitively), else receivedAt.
func ParseGeneric(source, entity string, body []byte, idempotencyKey string, receivedAt time.Time) ([]Event, error) {
	if !ValidName(source) || !ValidName(entity) {
		return nil, fmt.Errorf("source %q and entity %q must match ^[a-z][a-z0-9_]{0,62}$: %w",
			truncate(source, 80), truncate(entity, 80), ErrBadName)
	}
	receivedAt = receivedAt.UTC()
	trimmed := bytes.TrimSpace(body)
	var objects []json.RawMessage
	switch jsonKind(trimmed) {
	case "object":
		var probe json.RawMessage
		if err := json.Unmarshal(trimmed, &probe); err != nil {
			return nil, malformed("body", err)
		}
		objects = []json.RawMessage{trimmed}
	case "array":
		if err := json.Unmarshal(trimmed, &objects); err != nil {
			return nil, malformed("body", err)
		}
		for i, o := range objects {
			if k := jsonKind(o); k != "object" {
				return nil, fmt.Errorf("%w: element %d is %s, want an object", ErrMalformed, i, k)
			}
		}
	default:
		if !json.Valid(trimmed) {
			var probe json.RawMessage
			return nil, malformed("body", json.Unmarshal(trimmed, &probe))
		}
		return nil, fmt.Errorf("%w: body is %s, want an object or an array of objects", ErrMalformed, jsonKind(trimmed))
	}
	topic := "raw." + source + "." + entity
	events := make([]Event, 0, len(objects))
	for i, obj := range objects {
		id := idempotencyKey
		switch {
		case id == "":
			id = hashHex("/", []byte(source), []byte(entity), obj)
		case len(objects) > 1:
			id += ":" + strconv.Itoa(i)
		}
		t := genericTime(obj, receivedAt)
		rec := newRecord(8, id, source, entity, receivedAt, t, obj)
		rec["file_name"] = nil
		rec["row_number"] = nil
		events = append(events, newEvent(topic, id, source, t, rec, GenericSchema))
	}
	return events, nil
}

// genericTime returns an object's own time, or fallback.
func genericTime(obj json.RawMessage, fallback time.Time) time.Time {
	var ts genericTimes
	if json.Unmarshal(obj, &ts) != nil {
		return fallback
	}
	for _, raw := range []json.RawMessage{ts.EventTime, ts.Timestamp, ts.CreatedAt} {
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC()
		}
	}
	return fallback
}
