package duck

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func record(fields string) string {
	return `{"type":"record","name":"R","fields":[` + fields + `]}`
}

// varint returns the zig-zag varint of n.
func varint(n int64) []byte { return appendLong(nil, n) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDecodeMalformed(t *testing.T) {
	tests := []struct {
		name, schema string
		body         []byte
		msg          string
	}{
		{"empty body", record(`{"name":"a","type":"long"}`), nil, "unexpected end"},
		{"truncated string", record(`{"name":"a","type":"string"}`), cat(varint(5), []byte("ab")), "too large length"},
		{"negative length", record(`{"name":"a","type":"string"}`), varint(-1), "negative"},
		{"varint too long", record(`{"name":"a","type":"long"}`), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "overflows"},
		{"union branch out of range", record(`{"name":"a","type":["null","long"]}`), varint(2), "branch"},
		{"trailing bytes", record(`{"name":"a","type":"long"}`), cat(varint(1), varint(2)), "left after"},
		{"invalid utf-8", record(`{"name":"a","type":"string"}`), cat(varint(2), []byte{0xc3, 0x28}), "UTF-8"},
		{"boolean byte 2", record(`{"name":"a","type":"boolean"}`), []byte{2}, "boolean"},
		{"enum index", record(`{"name":"a","type":{"type":"enum","name":"E","symbols":["X"]}}`), varint(1), "enum"},
		{"int overflow", record(`{"name":"a","type":"int"}`), varint(1 << 40), "out of range"},
		{"decimal too wide", record(`{"name":"a","type":{"type":"bytes","logicalType":"decimal","precision":2,"scale":0}}`),
			cat(varint(2), []byte{0x30, 0x39}), "more than 2 digits"},
		{"time of day past midnight", record(`{"name":"a","type":{"type":"int","logicalType":"time-millis"}}`),
			varint(86_400_000), "out of range"},
		{"huge array count", record(`{"name":"a","type":{"type":"array","items":"long"}}`), varint(1 << 40), "block count"},
		{"huge count of nulls", record(`{"name":"a","type":{"type":"array","items":"null"}}`), varint(1 << 21), "block count"},
		{"huge map count", record(`{"name":"a","type":{"type":"map","values":"null"}}`), cat(varint(-(1 << 40)), varint(3)), "block count"},
		{"fixed too short", record(`{"name":"a","type":{"type":"fixed","name":"F","size":4}}`), []byte{1, 2}, "unexpected end"},
		{"double too short", record(`{"name":"a","type":"double"}`), []byte{1, 2, 3}, "unexpected end"},
		{"envelope op truncated", envelopeSchema, cat(varint(0), varint(0), cat(varint(1), []byte("v"), varint(1), varint(0))), "envelope field op"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := inputSchema(t, tt.schema, UnwrapAuto)
			_, err := s.Decode(tt.body)
			if !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrDecode containing %q", err, tt.msg)
			}
		})
	}
}

const listSchema = `{"type":"record","name":"Node","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","Node"]}]}`

func list(n int) map[string]any {
	var next any
	for i := n; i >= 1; i-- {
		next = goavro.Union("Node", map[string]any{"value": int64(i), "next": next})
	}
	return map[string]any{"value": int64(0), "next": next}
}

func TestDecodeRecursive(t *testing.T) {
	s := inputSchema(t, listSchema, UnwrapAuto)
	codec := codecOf(t, listSchema)
	row := decodeAll(t, s, goavroBody(t, codec, list(2)))[0]
	if got, want := show(row[1]), show(json.RawMessage(`{"value":1,"next":{"value":2,"next":null}}`)); got != want {
		t.Fatalf("next = %s, want %s", got, want)
	}
	if _, err := s.Decode(goavroBody(t, codec, list(maxDepth+5))); !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("deep list: err = %v, want nesting too deep", err)
	}
}

// TestDecodeJSONText covers the JSON text of values inside nested columns.
func TestDecodeJSONText(t *testing.T) {
	const schema = `{"type":"record","name":"R","fields":[{"name":"v","type":{"type":"record","name":"In","fields":[
		{"name":"s","type":"string"},
		{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
		{"name":"b","type":"bytes"},
		{"name":"f","type":{"type":"fixed","name":"F2","size":2}},
		{"name":"u","type":{"type":"fixed","name":"U16","size":16,"logicalType":"uuid"}},
		{"name":"d","type":{"type":"int","logicalType":"date"}},
		{"name":"t","type":{"type":"long","logicalType":"time-micros"}},
		{"name":"lt","type":{"type":"long","logicalType":"local-timestamp-millis"}},
		{"name":"x","type":"double"},
		{"name":"y","type":"float"},
		{"name":"ok","type":"boolean"},
		{"name":"n","type":"null"},
		{"name":"m","type":{"type":"map","values":{"type":"array","items":"int"}}}]}}]}`
	native := map[string]any{"v": map[string]any{
		"s": "tab\there \u00e9 <\x01>", "e": "B", "b": []byte{0xff, 0x00}, "f": []byte("hi"),
		"u": []byte{0x0b, 0x8a, 0x1c, 0x2e, 0x3f, 0x4d, 0x4e, 0x5f, 0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x5b},
		"d": day("2024-02-29"), "t": 5*time.Hour + 6*time.Microsecond, "lt": utc("2024-01-02T03:04:05.006Z").UnixMilli(),
		"x": 1e300, "y": float32(-0.25), "ok": false, "n": nil, "m": map[string]any{"k": []any{int32(1), int32(2)}},
	}}
	s := inputSchema(t, schema, UnwrapAuto)
	row := decodeAll(t, s, goavroBody(t, codecOf(t, schema), native))[0]
	want := `{"s":"tab\there é <\u0001>","e":"B","b":"/wA=","f":"aGk=","u":"0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b",` +
		`"d":"2024-02-29","t":"05:00:00.000006","lt":"2024-01-02T03:04:05.006","x":1e+300,"y":-0.25,"ok":false,"n":null,` +
		`"m":{"k":[1,2]}}`
	got := string(row[0].(json.RawMessage))
	if got != want {
		t.Fatalf("json\n%s\nwant\n%s", got, want)
	}
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
}

// TestDecodeMatchesGoavro decodes leads that goavro encoded and compares
// every value with what goavro itself decodes.
func TestDecodeMatchesGoavro(t *testing.T) {
	s := inputSchema(t, leadsSchema, UnwrapAuto)
	codec := codecOf(t, leadsSchema)
	for i, body := range leadBodies(t, 200) {
		row, err := s.Decode(body)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		native := goavroDecode(t, codec, body)
		for c, col := range s.Columns {
			want := native[col.Name]
			if u, ok := want.(map[string]any); ok {
				want = u["string"]
			}
			if show(row[c]) != show(want) {
				t.Fatalf("row %d %s = %s, goavro %s", i, col.Name, show(row[c]), show(want))
			}
		}
	}
}
