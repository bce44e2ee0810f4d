package duck

import (
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// fuzzSchema has one field of each kind of Avro type.
const fuzzSchema = `{"type":"record","name":"F","fields":[
	{"name":"id","type":"long"},
	{"name":"name","type":["null","string"]},
	{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
	{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"ok","type":"boolean"},
	{"name":"kind","type":{"type":"enum","name":"K","symbols":["A","B"]}},
	{"name":"tags","type":{"type":"array","items":"string"}},
	{"name":"attrs","type":{"type":"map","values":["null","double"]}},
	{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"f","type":{"type":"fixed","name":"F3","size":3}},{"name":"x","type":"float"}]}},
	{"name":"any","type":["int","string","I"]}]}`

// FuzzDecode feeds arbitrary bodies to Decode: it must never panic, and a
// body it accepts must be one goavro accepts too, with no bytes left.
func FuzzDecode(f *testing.F) {
	schemas := []string{fuzzSchema, leadsSchema, envelopeSchema}
	codec := codecOf(f, fuzzSchema)
	f.Add(uint8(0), goavroBody(f, codec, map[string]any{
		"id": int64(7), "name": goavro.Union("string", "x"), "amount": rat("-1.25"), "at": time.UnixMilli(5).UTC(),
		"ok": true, "kind": "B", "tags": []any{"a", "b"}, "attrs": map[string]any{"k": goavro.Union("double", 1.5), "n": nil},
		"inner": map[string]any{"f": []byte("abc"), "x": float32(2)}, "any": goavro.Union("I", map[string]any{"f": []byte("xyz"), "x": float32(0)}),
	}))
	f.Add(uint8(1), leadBodies(f, 1)[0])
	f.Add(uint8(2), goavroBody(f, codecOf(f, envelopeSchema), change("u", leadRow(2, "o@x", "1.00"), leadRow(2, "n@x", "2.00"), 1)))
	f.Add(uint8(0), []byte{})
	ins := make([]*InputSchema, len(schemas))
	codecs := make([]*goavro.Codec, len(schemas))
	for i, s := range schemas {
		ins[i] = inputSchema(f, s, UnwrapAuto)
		codecs[i] = codecOf(f, s)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		i := int(which) % len(schemas)
		row, err := ins[i].Decode(body)
		if err != nil {
			return
		}
		if len(row) != len(ins[i].Columns) {
			t.Fatalf("%d values for %d columns", len(row), len(ins[i].Columns))
		}
		// Decode checked every block count against the body, so goavro
		// cannot be made to allocate without bound here.
		if _, rest, err := codecs[i].NativeFromBinary(body); err != nil || len(rest) != 0 {
			t.Fatalf("Decode accepted a body goavro rejects: %v (%d bytes left)", err, len(rest))
		}
	})
}
