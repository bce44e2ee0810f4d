package registry

import (
	"encoding/json"
	"fmt"
)

// Key types of Confluent's _schemas topic that this registry interprets.
// Other key types (NOOP, MODE, DELETE_SUBJECT, ...) are read and ignored.
const (
	keyTypeSchema = "SCHEMA"
	keyTypeConfig = "CONFIG"
)

// schemaKey is the key of a schema version record. Field order matches
// Confluent's serialisation so both produce the same key bytes.
type schemaKey struct {
	KeyType string `json:"keytype"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
	Magic   int    `json:"magic"`
}

// schemaValue is the value of a schema version record.
type schemaValue struct {
	Subject    string `json:"subject"`
	Version    int    `json:"version"`
	ID         int    `json:"id"`
	SchemaType string `json:"schemaType,omitempty"`
	Schema     string `json:"schema"`
	Deleted    bool   `json:"deleted"`
}

// configKey is the key of a compatibility config record; a nil Subject is the
// global config.
type configKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject"`
	Magic   int     `json:"magic"`
}

// configValue is the value of a compatibility config record.
type configValue struct {
	CompatibilityLevel string `json:"compatibilityLevel"`
}

// anyKey decodes every key type.
type anyKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject"`
	Version *int    `json:"version"`
}

// logicalKey identifies the state a record sets, independent of its bytes.
type logicalKey struct {
	kind    string // keyTypeSchema or keyTypeConfig
	subject string
	global  bool // config key with a null subject
	version int
}

// encodeSchemaKey returns the record key of subject/version.
func encodeSchemaKey(subject string, version int) []byte {
	b, _ := json.Marshal(schemaKey{KeyType: keyTypeSchema, Subject: subject, Version: version, Magic: 1})
	return b
}

// encodeConfigKey returns the record key of the config of subject, or of the
// global config when global is true.
func encodeConfigKey(subject string, global bool) []byte {
	k := configKey{KeyType: keyTypeConfig, Magic: 0}
	if !global {
		k.Subject = &subject
	}
	b, _ := json.Marshal(k)
	return b
}

// encodeJSON marshals a record value; the value types cannot fail to encode.
func encodeJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// decodeKey parses a record key. ok is false for key types the registry
// ignores; err is set for keys it cannot parse.
func decodeKey(b []byte) (k logicalKey, ok bool, err error) {
	var ak anyKey
	if err := json.Unmarshal(b, &ak); err != nil {
		return logicalKey{}, false, fmt.Errorf("decode record key: %w", err)
	}
	switch ak.KeyType {
	case keyTypeSchema:
		if ak.Subject == nil || ak.Version == nil {
			return logicalKey{}, false, fmt.Errorf("schema key %s lacks subject or version", b)
		}
		return logicalKey{kind: keyTypeSchema, subject: *ak.Subject, version: *ak.Version}, true, nil
	case keyTypeConfig:
		if ak.Subject == nil {
			return logicalKey{kind: keyTypeConfig, global: true}, true, nil
		}
		return logicalKey{kind: keyTypeConfig, subject: *ak.Subject}, true, nil
	default:
		return logicalKey{}, false, nil
	}
}

// id returns a map key for k.
func (k logicalKey) id() string {
	switch {
	case k.kind == keyTypeConfig && k.global:
		return "C"
	case k.kind == keyTypeConfig:
		return "C\x00" + k.subject
	default:
		return fmt.Sprintf("S\x00%s\x00%d", k.subject, k.version)
	}
}
