package avro_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/avro"
)

// dealSchema is a 10-field record with riacho's usual types: decimal money,
// a timestamp, an enum, a nullable union and an array.
const dealSchema = `{"type":"record","name":"Deal","namespace":"riacho.raw.ploomes","fields":[
 {"name":"id","type":"long"},
 {"name":"title","type":"string"},
 {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}},
 {"name":"currency","type":"string","default":"BRL"},
 {"name":"stage","type":{"type":"enum","name":"Stage","symbols":["OPEN","WON","LOST"]}},
 {"name":"owner_email","type":["null","string"],"default":null},
 {"name":"created_at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"probability","type":"double"},
 {"name":"is_active","type":"boolean"},
 {"name":"tags","type":{"type":"array","items":"string"}}
]}`

// nestedSchema exercises the decoder guard: maps, nested arrays, a
// recursive type, fixed and a union of named types.
const nestedSchema = `{"type":"record","name":"Node","namespace":"riacho.test","fields":[
 {"name":"labels","type":{"type":"map","values":"string"}},
 {"name":"matrix","type":{"type":"array","items":{"type":"array","items":"int"}}},
 {"name":"nulls","type":{"type":"array","items":"null"}},
 {"name":"hash","type":{"type":"fixed","name":"MD5","size":16}},
 {"name":"next","type":["null","Node"],"default":null}
]}`

func deal() map[string]any {
	amount, _ := avro.ParseDecimal("1234.50", 2)
	return map[string]any{
		"id":          int64(42),
		"title":       "Contrato de suporte — São Paulo",
		"amount":      amount,
		"currency":    "BRL",
		"stage":       "WON",
		"owner_email": avro.Nullable("string", "ana@example.com"),
		"created_at":  time.Date(2026, 4, 30, 3, 0, 0, 0, time.UTC),
		"probability": 0.75,
		"is_active":   true,
		"tags":        []any{"crm", "ploomes"},
	}
}

func TestSerdeRoundTrip(t *testing.T) {
	s := newStandIn(t)
	enc, err := avro.NewSerde(newClient(t, s.srv.URL)).Encoder(ctx(t), "raw.ploomes.deals-value", dealSchema)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := enc.Encode(deal())
	if err != nil {
		t.Fatal(err)
	}
	if wire[0] != 0 || binary.BigEndian.Uint32(wire[1:5]) != enc.ID() {
		t.Fatalf("header %x does not carry id %d", wire[:5], enc.ID())
	}
	if prefixed, err := enc.AppendEncode([]byte("xx"), deal()); err != nil || !bytes.Equal(prefixed[2:], wire) {
		t.Fatalf("AppendEncode = %x, %v", prefixed, err)
	}
	if _, err := enc.Encode(map[string]any{"id": "not a long"}); err == nil {
		t.Fatal("encoding a wrong value succeeded")
	}

	// A reader with an empty cache resolves the id through the registry.
	dec := avro.NewSerde(newClient(t, s.srv.URL))
	for range 3 {
		native, id, err := dec.Decode(ctx(t), wire)
		if err != nil {
			t.Fatal(err)
		}
		if id != enc.ID() {
			t.Fatalf("decoded id %d, want %d", id, enc.ID())
		}
		got := native.(map[string]any)
		want := deal()
		if got["amount"].(*big.Rat).Cmp(want["amount"].(*big.Rat)) != 0 {
			t.Fatalf("amount %v, want %v", got["amount"], want["amount"])
		}
		if !got["created_at"].(time.Time).Equal(want["created_at"].(time.Time)) {
			t.Fatalf("created_at %v", got["created_at"])
		}
		delete(got, "amount")
		delete(got, "created_at")
		delete(want, "amount")
		delete(want, "created_at")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %#v\nwant %#v", got, want)
		}
	}
	if n := s.count("GET /schemas/ids/1"); n != 1 {
		t.Fatalf("decoder asked the registry %d times, want once", n)
	}
}

func TestSerdeDecodeErrors(t *testing.T) {
	s := newStandIn(t)
	serde := avro.NewSerde(newClient(t, s.srv.URL))
	enc, err := serde.Encoder(ctx(t), "nested-value", nestedSchema)
	if err != nil {
		t.Fatal(err)
	}
	good, err := enc.Encode(map[string]any{
		"labels": map[string]any{"a": "b"},
		"matrix": []any{[]any{int32(1), int32(2)}},
		"nulls":  []any{nil, nil},
		"hash":   make([]byte, 16),
		"next":   avro.Union("riacho.test.Node", map[string]any{"labels": map[string]any{}, "matrix": []any{}, "nulls": []any{}, "hash": make([]byte, 16), "next": nil}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := serde.Decode(ctx(t), good); err != nil {
		t.Fatalf("valid nested value: %v", err)
	}

	header := avro.AppendWire(nil, enc.ID(), nil)
	// A block count of 2^31-1 followed by one item: goavro alone would
	// allocate 32 GiB for it.
	huge := binary.AppendUvarint(append([]byte(nil), header...), uint64(1<<31-1)<<1)
	huge = append(huge, 2, 'a', 2, 'b')

	tests := []struct {
		name string
		in   []byte
		want error
		text string
	}{
		{"empty", nil, avro.ErrTooShort, ""},
		{"wrong magic byte", append([]byte{1}, good[1:]...), avro.ErrNoMagicByte, ""},
		{"unknown id", avro.AppendWire(nil, 4242, []byte{0}), avro.ErrSchemaNotFound, "4242"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), avro.ErrTrailingBytes, ""},
		{"truncated", good[:len(good)-3], nil, "schema id"},
		{"huge block count", huge, nil, "block of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := serde.Decode(ctx(t), tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.text)
			}
		})
	}
}

func TestSerdeConcurrentLookupsShareOneRequest(t *testing.T) {
	s := newStandIn(t)
	enc, err := avro.NewSerde(newClient(t, s.srv.URL)).Encoder(ctx(t), "deals-value", dealSchema)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := enc.Encode(deal())
	if err != nil {
		t.Fatal(err)
	}
	dec := avro.NewSerde(newClient(t, s.srv.URL))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, _, err := dec.Decode(ctx(t), wire)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count("GET /schemas/ids/1"); n != 1 {
		t.Fatalf("16 concurrent decoders sent %d lookups, want 1", n)
	}
}

func TestEncoderRejectsBadSchemaLocally(t *testing.T) {
	s := newStandIn(t)
	_, err := avro.NewSerde(newClient(t, s.srv.URL)).Encoder(ctx(t), "x-value", `{"type":"record","name":"X","fields":[{"name":"a","type":"strin"}]}`)
	if err == nil {
		t.Fatal("bad schema accepted")
	}
	if n := s.requests.Load(); n != 0 {
		t.Fatalf("the registry was asked %d times about a schema goavro rejects", n)
	}
}

func TestEncoderIncompatible(t *testing.T) {
	s := newStandIn(t)
	serde := avro.NewSerde(newClient(t, s.srv.URL))
	if _, err := serde.Encoder(ctx(t), "deals-value", dealV1); err != nil {
		t.Fatal(err)
	}
	if _, err := serde.Encoder(ctx(t), "deals-value", dealBad); !errors.Is(err, avro.ErrIncompatible) {
		t.Fatalf("incompatible schema: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to Decode: it may fail, never panic
// nor allocate without bound. Ids 1 and 2 are known (a flat and a nested
// schema); others are unknown to the registry.
func FuzzDecode(f *testing.F) {
	s := newStandIn(f)
	c := newClient(f, s.srv.URL)
	serde := avro.NewSerde(c)
	flat, err := serde.Encoder(context.Background(), "deals-value", dealSchema)
	if err != nil {
		f.Fatal(err)
	}
	nested, err := serde.Encoder(context.Background(), "nested-value", nestedSchema)
	if err != nil {
		f.Fatal(err)
	}
	w, err := flat.Encode(deal())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(w)
	n, err := nested.Encode(map[string]any{
		"labels": map[string]any{"k": "v"}, "matrix": []any{[]any{int32(7)}}, "nulls": []any{nil},
		"hash": make([]byte, 16), "next": nil,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(n)
	f.Add([]byte{0, 0, 0, 0, 2, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 2, 'a'})
	f.Add([]byte{0, 0, 0, 0, 9})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		native, id, err := serde.Decode(context.Background(), b)
		if err != nil {
			return
		}
		// Whatever decodes must encode back (not necessarily to the same
		// bytes: Avro allows several encodings of one value) and decode
		// again.
		enc := flat
		if id == nested.ID() {
			enc = nested
		}
		back, err := enc.Encode(native)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it back: %v", native, err)
		}
		if _, _, err := serde.Decode(context.Background(), back); err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", back, err)
		}
	})
}
