package avro

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/linkedin/goavro/v2"
	"golang.org/x/sync/singleflight"
)

// ErrTrailingBytes means a value had bytes left after the Avro body its
// schema describes: most likely the wrong schema id.
var ErrTrailingBytes = errors.New("avro: trailing bytes after the value")

// Serde encodes and decodes Confluent wire-format Avro values through a
// registry Client, keeping one goavro codec per schema id. It is safe for
// concurrent use.
type Serde struct {
	c *Client

	mu     sync.RWMutex
	codecs map[uint32]*idCodec
	flight singleflight.Group
}

// idCodec is a schema id's codec and, if the schema has arrays or maps,
// the guard that checks untrusted bodies before goavro allocates.
type idCodec struct {
	codec *goavro.Codec
	guard *guard
}

func newIDCodec(schema string) (*idCodec, error) {
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		return nil, err
	}
	g, err := newGuard(schema)
	if err != nil {
		return nil, err
	}
	return &idCodec{codec: codec, guard: g}, nil
}

// NewSerde returns a Serde using c.
func NewSerde(c *Client) *Serde {
	return &Serde{c: c, codecs: make(map[uint32]*idCodec)}
}

// Encoder writes values of one schema as Confluent wire-format Avro.
type Encoder struct {
	id    uint32
	codec *goavro.Codec
}

// Encoder parses schemaText, registers it under subject (by convention
// "<topic>-value"; the subject's compatibility rule, BACKWARD unless
// configured otherwise, is enforced by the registry) and returns an Encoder
// for it. A schema goavro cannot parse fails before the registry is asked.
// Call it once per schema and keep the Encoder: registration is cached, but
// parsing is not free.
func (s *Serde) Encoder(ctx context.Context, subject, schemaText string) (*Encoder, error) {
	ic, err := newIDCodec(schemaText)
	if err != nil {
		return nil, fmt.Errorf("avro encoder for %s: %w", subject, err)
	}
	id, err := s.c.Register(ctx, subject, schemaText)
	if err != nil {
		return nil, fmt.Errorf("avro encoder: %w", err)
	}
	if id < 0 || int64(id) > int64(^uint32(0)) {
		return nil, fmt.Errorf("avro encoder for %s: registry returned id %d out of range", subject, id)
	}
	s.mu.Lock()
	if _, ok := s.codecs[uint32(id)]; !ok {
		s.codecs[uint32(id)] = ic
	}
	s.mu.Unlock()
	return &Encoder{id: uint32(id), codec: ic.codec}, nil
}

// ID returns the registry's id of the encoder's schema.
func (e *Encoder) ID() uint32 { return e.id }

// Codec returns the goavro codec of the encoder's schema.
func (e *Encoder) Codec() *goavro.Codec { return e.codec }

// Encode returns native encoded in the Confluent wire format.
func (e *Encoder) Encode(native any) ([]byte, error) {
	return e.AppendEncode(nil, native)
}

// AppendEncode appends native, encoded in the Confluent wire format, to dst.
// On error dst is returned unchanged.
func (e *Encoder) AppendEncode(dst []byte, native any) ([]byte, error) {
	n := len(dst)
	out, err := e.codec.BinaryFromNative(appendHeader(dst, e.id), native)
	if err != nil {
		return dst[:n], fmt.Errorf("avro encode with schema id %d: %w", e.id, err)
	}
	return out, nil
}

// Decode decodes a Confluent wire-format value and returns the native
// value and its schema id. An unknown id is looked up in the registry once
// (concurrent lookups of one id share a request) and its codec kept; an id
// the registry does not know fails with an error matching
// ErrSchemaNotFound that names the id. Input is treated as untrusted:
// malformed bytes fail with an error, never a panic or a huge allocation.
func (s *Serde) Decode(ctx context.Context, wire []byte) (native any, schemaID uint32, err error) {
	id, payload, err := SplitWire(wire)
	if err != nil {
		return nil, 0, fmt.Errorf("avro decode: %w", err)
	}
	ic, err := s.codecFor(ctx, id)
	if err != nil {
		return nil, id, fmt.Errorf("avro decode: %w", err)
	}
	if ic.guard != nil {
		if err := ic.guard.check(payload); err != nil {
			return nil, id, fmt.Errorf("avro decode with schema id %d: malformed body: %w", id, err)
		}
	}
	native, rest, err := ic.codec.NativeFromBinary(payload)
	if err != nil {
		return nil, id, fmt.Errorf("avro decode with schema id %d: %w", id, err)
	}
	if len(rest) > 0 {
		return nil, id, fmt.Errorf("avro decode with schema id %d: %w: %d bytes", id, ErrTrailingBytes, len(rest))
	}
	return native, id, nil
}

// Codec returns the goavro codec of schema id, fetching the schema from
// the registry the first time.
func (s *Serde) Codec(ctx context.Context, id uint32) (*goavro.Codec, error) {
	ic, err := s.codecFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return ic.codec, nil
}

func (s *Serde) codecFor(ctx context.Context, id uint32) (*idCodec, error) {
	s.mu.RLock()
	ic, ok := s.codecs[id]
	s.mu.RUnlock()
	if ok {
		return ic, nil
	}
	v, err, _ := s.flight.Do(strconv.FormatUint(uint64(id), 10), func() (any, error) {
		schema, err := s.c.SchemaByID(ctx, int(id))
		if err != nil {
			return nil, err
		}
		ic, err := newIDCodec(schema)
		if err != nil {
			return nil, fmt.Errorf("schema id %d: %w", id, err)
		}
		s.mu.Lock()
		s.codecs[id] = ic
		s.mu.Unlock()
		return ic, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*idCodec), nil
}
