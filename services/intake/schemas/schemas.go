// Package schemas embeds the Avro value schemas (.avsc) of the intake's fixed raw topics.
//
// Every schema is a record in the namespace riacho.raw.<source> (the generic RawEvent in
// riacho.raw) that starts with the common fields event_id, source, entity, received_at and
// event_time (timestamp-micros, UTC) and payload (the original JSON bytes). Every other field
// is a ["null", T] union with default null and no enums are used, so adding a field with a
// default keeps a new version BACKWARD compatible with the registered one.
package schemas

import (
	"embed"
	"io/fs"
	"strings"
)

// Files holds every .avsc file of this directory.
//
//go:embed *.avsc
var Files embed.FS

// WhatsAppMessage is the value schema of raw.whatsapp.messages (riacho.raw.whatsapp.Message).
//
//go:embed whatsapp_message.avsc
var WhatsAppMessage string

// WhatsAppStatus is the value schema of raw.whatsapp.statuses (riacho.raw.whatsapp.Status).
//
//go:embed whatsapp_status.avsc
var WhatsAppStatus string

// WhatsAppEvent is the value schema of raw.whatsapp.events (riacho.raw.whatsapp.Event).
//
//go:embed whatsapp_event.avsc
var WhatsAppEvent string

// MetaLead is the value schema of raw.meta.leads (riacho.raw.meta.Lead).
//
//go:embed meta_lead.avsc
var MetaLead string

// MetaEvent is the value schema of raw.meta.events (riacho.raw.meta.Event).
//
//go:embed meta_event.avsc
var MetaEvent string

// PloomesChange is the value schema of every raw.ploomes.<entity> topic (riacho.raw.ploomes.Change).
//
//go:embed ploomes_change.avsc
var PloomesChange string

// RawEvent is the generic value schema (riacho.raw.RawEvent) of generic JSON and spreadsheet topics.
//
//go:embed raw_event.avsc
var RawEvent string

// All returns every embedded schema text keyed by file name without the .avsc extension.
func All() map[string]string {
	out := make(map[string]string)
	entries, err := fs.ReadDir(Files, ".")
	if err != nil {
		return out // unreachable: the embedded directory always reads
	}
	for _, e := range entries {
		b, err := fs.ReadFile(Files, e.Name())
		if err != nil {
			continue
		}
		out[strings.TrimSuffix(e.Name(), ".avsc")] = string(b)
	}
	return out
}
