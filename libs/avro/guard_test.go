package avro

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
)

func TestNewGuardOnlyForCollections(t *testing.T) {
	g, err := newGuard(`{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":["null","string"]}]}`)
	if err != nil || g != nil {
		t.Fatalf("flat record: guard %v, err %v; want none", g, err)
	}
	for _, bad := range []string{`{"type":"array","items":"Nope"}`, `not json`, `{"type":"fixed","name":"F"}`} {
		if _, err := newGuard(bad); err == nil {
			t.Errorf("newGuard(%s) accepted it", bad)
		}
	}
}

func TestGuardMinSizes(t *testing.T) {
	g, err := newGuard(`{"type":"record","name":"List","namespace":"a.b","fields":[
		{"name":"v","type":"double"},
		{"name":"h","type":{"type":"fixed","name":"H","size":3}},
		{"name":"hs","type":{"type":"array","items":"a.b.H"}},
		{"name":"m","type":{"type":"map","values":"null"}},
		{"name":"e","type":{"type":"array","items":{"type":"record","name":"Empty","fields":[]}}},
		{"name":"next","type":["null","List"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	f := g.root.children
	if got := g.root.min; got != 8+3+1+1+1+1 {
		t.Errorf("record min %d, want 15", got)
	}
	for i, want := range map[int]int{2: 3, 3: 1, 4: 0} {
		if f[i].minItem != want {
			t.Errorf("field %d min item %d, want %d", i, f[i].minItem, want)
		}
	}
}

func TestGuardCheck(t *testing.T) {
	schema := `{"type":"record","name":"R","fields":[
		{"name":"tags","type":{"type":"array","items":"string"}},
		{"name":"attrs","type":{"type":"map","values":"long"}},
		{"name":"nulls","type":{"type":"array","items":"null"}}]}`
	g, err := newGuard(schema)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	valid, err := codec.BinaryFromNative(nil, map[string]any{
		"tags": []any{"a", "bb"}, "attrs": map[string]any{"k": int64(1)}, "nulls": []any{nil, nil, nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	long := func(b []byte, v int64) []byte { return binary.AppendUvarint(b, uint64((v<<1)^(v>>63))) }
	// The same value with tags in one negative-count block (count, byte size).
	negative := long(long(nil, -2), 4)
	negative = append(negative, 2, 'a', 4, 'b', 'b', 0)
	negative = append(negative, valid[7:]...)

	tests := []struct {
		name string
		in   []byte
		want string // "" for valid
	}{
		{"valid", valid, ""},
		{"negative block count", negative, ""},
		{"too many strings", append(long(nil, 1<<30), 2, 'a'), "block of"},
		{"min int64 count", long(nil, -1<<63), "out of range"},
		{"too many nulls", append(append(long(nil, 0), 0), long(nil, maxZeroSizeItems+1)...), "empty items"},
		{"truncated string", []byte{2, 10, 'a'}, "bytes length"},
		{"bad varint", []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, "varint"},
		{"empty", nil, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := g.check(tt.in)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid input rejected: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, _, err := codec.NativeFromBinary(negative); err != nil {
		t.Fatalf("goavro rejects the negative-count encoding the guard accepted: %v", err)
	}
}

func TestGuardRecursionDepth(t *testing.T) {
	g, err := newGuard(`{"type":"record","name":"N","fields":[{"name":"xs","type":{"type":"array","items":"int"}},{"name":"next","type":["null","N"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for range 2000 { // 2000 nested records: xs empty, next = branch 1
		b = append(b, 0, 2)
	}
	b = append(b, 0, 0)
	if err := g.check(b); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Fatalf("deep nesting: %v", err)
	}
}

func BenchmarkGuard(b *testing.B) {
	schema := `{"type":"record","name":"R","fields":[{"name":"id","type":"long"},{"name":"t","type":"string"},
		{"name":"tags","type":{"type":"array","items":"string"}},{"name":"o","type":["null","string"]}]}`
	g, err := newGuard(schema)
	if err != nil {
		b.Fatal(err)
	}
	codec, _ := goavro.NewCodec(schema)
	bin, err := codec.BinaryFromNative(nil, map[string]any{"id": int64(1), "t": "title", "tags": []any{"a", "b"}, "o": nil})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := g.check(bin); err != nil {
			b.Fatal(err)
		}
	}
}
