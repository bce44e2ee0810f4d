package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"
)

// schemaTypeAvro is the only schema type the registry supports.
const schemaTypeAvro = "AVRO"

// errInvalidSchema marks schemas that are not valid Avro.
var errInvalidSchema = errors.New("invalid schema")

// parsedSchema is a validated Avro schema and the text that identifies it.
type parsedSchema struct {
	// text is the compacted JSON of the schema: its identity in the registry.
	text string
	// schema is the hamba/avro parse used for compatibility checks.
	schema avro.Schema
}

// registerRequest is the body of POST /subjects/{s}/versions, POST /subjects/{s}
// and the compatibility endpoints.
type registerRequest struct {
	Schema     *string           `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
}

// decodeSchemaRequest decodes a request body and validates its schema. It
// returns an *Error (400 for a malformed body, 42201 for a bad schema).
func decodeSchemaRequest(body []byte) (parsedSchema, *Error) {
	var req registerRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return parsedSchema{}, apiErr(codeBadRequest, "request body is not a JSON object with a \"schema\" string: %v", err)
	}
	if req.Schema == nil {
		return parsedSchema{}, apiErr(CodeInvalidSchema, "Invalid schema: the request has no \"schema\" field")
	}
	if req.SchemaType != "" && !strings.EqualFold(req.SchemaType, schemaTypeAvro) {
		return parsedSchema{}, apiErr(CodeInvalidSchema,
			"Invalid schema: schema type %q is not supported; this registry supports only AVRO", req.SchemaType)
	}
	if len(req.References) > 0 {
		return parsedSchema{}, apiErr(CodeInvalidSchema, "Invalid schema: schema references are not supported")
	}
	ps, err := parseSchema(*req.Schema)
	if err != nil {
		return parsedSchema{}, apiErr(CodeInvalidSchema, "Invalid schema: %v", err)
	}
	return ps, nil
}

// parseSchema validates an Avro schema and computes its identity text. The
// schema must be JSON accepted by both hamba/avro and goavro.
func parseSchema(text string) (ps parsedSchema, err error) {
	defer func() {
		if p := recover(); p != nil {
			ps, err = parsedSchema{}, fmt.Errorf("%w: parser failed: %v", errInvalidSchema, p)
		}
	}()
	text = strings.TrimSpace(text)
	if text == "" {
		return parsedSchema{}, fmt.Errorf("%w: empty schema", errInvalidSchema)
	}
	canon, err := compactJSON(text)
	if err != nil {
		return parsedSchema{}, fmt.Errorf("%w: schema is not JSON: %w", errInvalidSchema, err)
	}
	// A fresh cache per parse: the default cache is global and would let a
	// schema refer to named types defined by earlier, unrelated schemas.
	s, err := avro.ParseWithCache(canon, "", &avro.SchemaCache{})
	if err != nil {
		return parsedSchema{}, fmt.Errorf("%w: %w", errInvalidSchema, err)
	}
	if _, err := goavro.NewCodec(canon); err != nil {
		return parsedSchema{}, fmt.Errorf("%w: %w", errInvalidSchema, err)
	}
	return parsedSchema{text: canon, schema: s}, nil
}

// compactJSON returns text with insignificant whitespace removed.
func compactJSON(text string) (string, error) {
	if !json.Valid([]byte(text)) {
		var v any
		err := json.Unmarshal([]byte(text), &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return "", err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// identity returns the identity text of a stored schema: its compacted JSON,
// or the text itself when it is not JSON (records written by other tools).
func identity(text string) string {
	c, err := compactJSON(strings.TrimSpace(text))
	if err != nil {
		return text
	}
	return c
}

// oldVersion is a stored version a new schema is checked against.
type oldVersion struct {
	version int
	text    string
}

// checkCompatibility checks s against old (newest first) under level and
// returns one message per violation; no message means compatible. Non
// transitive levels only look at old[0].
func checkCompatibility(level string, s avro.Schema, old []oldVersion) []string {
	var backward, forward bool
	switch level {
	case Backward, BackwardTransitive:
		backward = true
	case Forward, ForwardTransitive:
		forward = true
	case Full, FullTransitive:
		backward, forward = true, true
	default:
		return nil
	}
	if !strings.HasSuffix(level, "_TRANSITIVE") && len(old) > 1 {
		old = old[:1]
	}
	var msgs []string
	for _, o := range old {
		prev, err := avro.ParseWithCache(o.text, "", &avro.SchemaCache{})
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("version %d: stored schema does not parse: %v", o.version, err))
			continue
		}
		if backward {
			if err := compatible(s, prev); err != nil {
				msgs = append(msgs, fmt.Sprintf(
					"%s: the new schema cannot read data written with version %d: %v", level, o.version, err))
			}
		}
		if forward {
			if err := compatible(prev, s); err != nil {
				msgs = append(msgs, fmt.Sprintf(
					"%s: version %d cannot read data written with the new schema: %v", level, o.version, err))
			}
		}
	}
	return msgs
}

// compatible reports whether reader can read data written with writer. It
// uses a fresh checker each time: hamba/avro caches results by canonical-form
// fingerprint, which ignores defaults, so a shared checker could reuse a result
// computed for a schema that differs only in its defaults.
func compatible(reader, writer avro.Schema) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("compatibility check failed: %v", p)
		}
	}()
	return avro.NewSchemaCompatibility().Compatible(reader, writer)
}
