package registry

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseSchema(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		valid bool
		text  string // expected identity when valid and not empty
	}{
		{name: "primitive", in: `"string"`, valid: true, text: `"string"`},
		{name: "primitive object", in: `{"type": "long"}`, valid: true, text: `{"type":"long"}`},
		{name: "record compacted keeps defaults", in: " {\n \"type\": \"record\", \"name\": \"R\",\n \"fields\": [{\"name\": \"a\", \"type\": \"int\", \"default\": 7}]}\n",
			valid: true, text: `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":7}]}`},
		{name: "enum", in: `{"type":"enum","name":"E","symbols":["A","B"]}`, valid: true},
		{name: "union", in: `["null","string"]`, valid: true},
		{name: "logical", in: `{"type":"int","logicalType":"date"}`, valid: true},
		{name: "recursive", in: `{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"],"default":null}]}`, valid: true},
		{name: "empty", in: "  ", valid: false},
		{name: "not json", in: `string`, valid: false},
		{name: "truncated json", in: `{"type":"record"`, valid: false},
		{name: "unknown primitive", in: `"strin"`, valid: false},
		{name: "record without fields", in: `{"type":"record","name":"R"}`, valid: false},
		{name: "bad name", in: `{"type":"record","name":"1R","fields":[]}`, valid: false},
		{name: "unknown named type", in: `{"type":"record","name":"R2","fields":[{"name":"u","type":"riacho.test.User"}]}`, valid: false},
		{name: "default of wrong type", in: `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}`, valid: false},
		{name: "duplicate enum symbol", in: `{"type":"enum","name":"E","symbols":["A","A"]}`, valid: false},
		{name: "number", in: `5`, valid: false},
		{name: "null literal", in: `null`, valid: false},
	}
	// Parse a schema that defines riacho.test.User first: a later schema must
	// not be able to refer to it (no shared named-type cache).
	if _, err := parseSchema(userV1); err != nil {
		t.Fatalf("parse userV1: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := parseSchema(tt.in)
			if tt.valid != (err == nil) {
				t.Fatalf("parseSchema(%s): err = %v, want valid=%v", tt.in, err, tt.valid)
			}
			if err != nil {
				if !errors.Is(err, errInvalidSchema) {
					t.Fatalf("error %v does not wrap errInvalidSchema", err)
				}
				return
			}
			if tt.text != "" && ps.text != tt.text {
				t.Fatalf("identity = %s, want %s", ps.text, tt.text)
			}
			if !json.Valid([]byte(ps.text)) || strings.ContainsAny(ps.text, "\n\t") {
				t.Fatalf("identity %q is not compact JSON", ps.text)
			}
		})
	}
}

func TestDecodeSchemaRequest(t *testing.T) {
	tests := []struct {
		name string
		body string
		code int // 0 means success
	}{
		{"avro implicit", `{"schema":"\"int\""}`, 0},
		{"avro explicit", `{"schema":"\"int\"","schemaType":"AVRO"}`, 0},
		{"unknown fields ignored", `{"schema":"\"int\"","metadata":{}}`, 0},
		{"empty references", `{"schema":"\"int\"","references":[]}`, 0},
		{"protobuf", `{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`, CodeInvalidSchema},
		{"json schema", `{"schema":"{}","schemaType":"JSON"}`, CodeInvalidSchema},
		{"references", `{"schema":"\"int\"","references":[{"name":"a","subject":"b","version":1}]}`, CodeInvalidSchema},
		{"missing schema", `{}`, CodeInvalidSchema},
		{"schema not a string", `{"schema":{"type":"int"}}`, codeBadRequest},
		{"not json", `schema=int`, codeBadRequest},
		{"invalid avro", `{"schema":"{\"type\":\"nope\"}"}`, CodeInvalidSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := decodeSchemaRequest([]byte(tt.body))
			switch {
			case tt.code == 0 && e != nil:
				t.Fatalf("unexpected error %v", e)
			case tt.code != 0 && (e == nil || e.Code != tt.code):
				t.Fatalf("got %v, want code %d", e, tt.code)
			}
		})
	}
}

func TestCheckCompatibilityRules(t *testing.T) {
	enumAB := `{"type":"enum","name":"E","symbols":["A","B"]}`
	enumABC := `{"type":"enum","name":"E","symbols":["A","B","C"]}`
	intS, longS := `"int"`, `"long"`
	withDefault := `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":1}]}`
	noDefault := `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}`
	onlyA := `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`
	renamed := `{"type":"record","name":"Other","fields":[{"name":"a","type":"int"}]}`
	aliased := `{"type":"record","name":"Other","aliases":["R"],"fields":[{"name":"a","type":"int"}]}`

	tests := []struct {
		name              string
		old, new          string
		backward, forward bool
	}{
		{"add field with default", onlyA, withDefault, true, true},
		{"add field without default", onlyA, noDefault, false, true},
		{"remove field without default", noDefault, onlyA, true, false},
		{"remove field with default", withDefault, onlyA, true, true},
		{"promote int to long", intS, longS, true, false},
		{"add enum symbol", enumAB, enumABC, true, false},
		{"rename record", onlyA, renamed, false, false},
		{"rename record with alias", onlyA, aliased, true, false},
		// Same canonical form, different defaults: a cached checker would mix them up.
		{"drop default only", withDefault, noDefault, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := parseSchema(tt.new)
			if err != nil {
				t.Fatalf("parse new: %v", err)
			}
			old := []oldVersion{{version: 1, text: tt.old}}
			if got := len(checkCompatibility(Backward, ps.schema, old)) == 0; got != tt.backward {
				t.Errorf("BACKWARD = %v, want %v (%v)", got, tt.backward, checkCompatibility(Backward, ps.schema, old))
			}
			if got := len(checkCompatibility(Forward, ps.schema, old)) == 0; got != tt.forward {
				t.Errorf("FORWARD = %v, want %v", got, tt.forward)
			}
			wantFull := tt.backward && tt.forward
			if got := len(checkCompatibility(Full, ps.schema, old)) == 0; got != wantFull {
				t.Errorf("FULL = %v, want %v", got, wantFull)
			}
			if msgs := checkCompatibility(None, ps.schema, old); len(msgs) != 0 {
				t.Errorf("NONE reported %v", msgs)
			}
		})
	}

	// The shared-cache hazard, checked directly: reader without default vs a
	// writer lacking the field must fail even after the same pair with a
	// default (same fingerprint) succeeded.
	t.Run("no cache across checks", func(t *testing.T) {
		a, _ := parseSchema(withDefault)
		b, _ := parseSchema(noDefault)
		w, _ := parseSchema(onlyA)
		if err := compatible(a.schema, w.schema); err != nil {
			t.Fatalf("with default: %v", err)
		}
		if err := compatible(b.schema, w.schema); err == nil {
			t.Fatal("without default: compatible, want an error")
		}
	})
}
