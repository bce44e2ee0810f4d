package schemas

import (
	"encoding/json"
	"strings"
	"testing"

	avro "github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"
)

func TestSchemasParse(t *testing.T) {
	all := All()
	named := map[string]string{
		"whatsapp_message": WhatsAppMessage,
		"whatsapp_status":  WhatsAppStatus,
		"whatsapp_event":   WhatsAppEvent,
		"meta_lead":        MetaLead,
		"meta_event":       MetaEvent,
		"ploomes_change":   PloomesChange,
		"raw_event":        RawEvent,
	}
	if len(all) != len(named) {
		t.Fatalf("All() has %d schemas, want %d", len(all), len(named))
	}
	for name, text := range named {
		t.Run(name, func(t *testing.T) {
			if all[name] != text {
				t.Fatalf("All()[%q] differs from the exported variable", name)
			}
			codec, err := goavro.NewCodec(text)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !strings.HasPrefix(codec.CanonicalSchema(), `{"name":"riacho.raw.`) {
				t.Errorf("canonical schema %q not in the riacho.raw namespace", codec.CanonicalSchema()[:40])
			}
		})
	}
}

// TestSchemasEvolvable checks the rules that keep adding a defaulted field BACKWARD compatible:
// common fields first, every other field nullable with a null default or explicitly required, no enums.
func TestSchemasEvolvable(t *testing.T) {
	common := []string{"event_id", "source", "entity", "received_at", "event_time", "payload"}
	required := map[string]bool{
		"message_id": true, "type": true, "status_id": true, "status": true, "field": true, "leadgen_id": true,
	}
	for name, text := range All() {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(text, `"enum"`) {
				t.Errorf("schema uses an enum; new symbols would break old readers")
			}
			var rec struct {
				Fields []struct {
					Name    string          `json:"name"`
					Type    json.RawMessage `json:"type"`
					Default json.RawMessage `json:"default"`
					Doc     string          `json:"doc"`
				} `json:"fields"`
			}
			if err := json.Unmarshal([]byte(text), &rec); err != nil {
				t.Fatal(err)
			}
			if len(rec.Fields) < len(common) {
				t.Fatalf("only %d fields", len(rec.Fields))
			}
			for i, c := range common {
				if rec.Fields[i].Name != c {
					t.Errorf("field %d = %q, want common field %q", i, rec.Fields[i].Name, c)
				}
			}
			for _, f := range rec.Fields[len(common):] {
				if f.Doc == "" {
					t.Errorf("field %s has no doc", f.Name)
				}
				if required[f.Name] {
					continue
				}
				var union []json.RawMessage
				if json.Unmarshal(f.Type, &union) != nil || len(union) != 2 || string(union[0]) != `"null"` || string(f.Default) != "null" {
					t.Errorf("field %s is %s default %s, want a [\"null\", T] union defaulting to null", f.Name, f.Type, f.Default)
				}
			}
		})
	}
}

// TestSchemasBackwardAddField proves the evolution rule with a resolving Avro implementation:
// for every schema, a new version that adds a defaulted field (top level, and inside a nested
// record where there is one) can read data written with the current one.
func TestSchemasBackwardAddField(t *testing.T) {
	for name, text := range All() {
		t.Run(name, func(t *testing.T) {
			writer, err := avro.Parse(text)
			if err != nil {
				t.Fatalf("hamba parse: %v", err)
			}
			added := strings.ReplaceAll(text, `"fields": [`,
				`"fields": [{"name": "added_later", "type": ["null", "string"], "default": null},`)
			reader, err := avro.Parse(added)
			if err != nil {
				t.Fatalf("parse evolved schema: %v", err)
			}
			if err := avro.NewSchemaCompatibility().Compatible(reader, writer); err != nil {
				t.Fatalf("adding a defaulted field is not BACKWARD compatible: %v", err)
			}
			// A field without a default must be refused, so the check above can fail.
			strict := strings.Replace(text, `"fields": [`, `"fields": [{"name": "added_later", "type": "string"},`, 1)
			rs, err := avro.Parse(strict)
			if err != nil {
				t.Fatal(err)
			}
			if avro.NewSchemaCompatibility().Compatible(rs, writer) == nil {
				t.Fatal("adding a required field was accepted")
			}
		})
	}
}
