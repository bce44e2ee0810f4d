package envelope

import (
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func vsd() map[string]any {
	return map[string]any{"type": "record", "name": "VariableScaleDecimal", "namespace": "riacho.data",
		"fields": []any{
			map[string]any{"name": "scale", "type": "int"},
			map[string]any{"name": "value", "type": "bytes"},
		}}
}

func sample() *Table {
	return &Table{
		Source: "erp", Connector: "postgresql", DB: "books", Schema: "public", Name: "invoices",
		Columns: []Field{
			{Name: "id", Type: "long", SourceType: "bigint"},
			{Name: "total", Type: map[string]any{"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}, SourceType: "numeric(12,2)"},
			{Name: "note", Type: "string", SourceType: "text"},
			{Name: "paid_at", Type: map[string]any{"type": "long", "logicalType": "timestamp-micros"}},
			{Name: "due", Type: map[string]any{"type": "int", "logicalType": "date"}},
			{Name: "ref", Type: map[string]any{"type": "string", "logicalType": "uuid"}},
			{Name: "tags", Type: map[string]any{"type": "array", "items": []any{"null", "string"}}},
			{Name: "raw", Type: "bytes"},
			{Name: "ratio", Type: vsd()},
			{Name: "ratio2", Type: vsd()}, // the same named type twice
			{Name: "2nd col-name", Type: "int"},
			{Name: "at", Type: map[string]any{"type": "long", "logicalType": "time-micros"}},
		},
		Key: []string{"id"},
	}
}

func codec(t *testing.T, schema string) *goavro.Codec {
	t.Helper()
	c, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatalf("schema does not compile: %v\n%s", err, schema)
	}
	return c
}

func TestTopicAndNames(t *testing.T) {
	tb := sample()
	if got := tb.Topic(); got != "raw.erp.public.invoices" {
		t.Fatalf("topic %q", got)
	}
	odd := &Table{Source: "sap b1", Name: "Invoices/2024"}
	if got := odd.Topic(); got != "raw.sap_b1.Invoices_2024" {
		t.Fatalf("topic %q", got)
	}
	if got := odd.ID(); got != "Invoices/2024" {
		t.Fatalf("id %q", got)
	}
}

func TestRoundTripEveryForm(t *testing.T) {
	tb := sample()
	if err := tb.Compile(); err != nil {
		t.Fatal(err)
	}
	vs, err := tb.ValueSchema()
	if err != nil {
		t.Fatal(err)
	}
	vc := codec(t, vs)
	paid := time.Date(2024, 1, 15, 10, 30, 0, 123456000, time.UTC)
	due := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	total, _ := new(big.Rat).SetString("12345678901.25")
	after := Row{
		"id": int64(42), "total": total, "note": "olá", "paid_at": paid, "due": due,
		"ref": "0b0e1f7a-3c55-4d2a-9a43-6f8f4cf1e0a1", "tags": []any{"a", nil, "b"},
		"raw": []byte{0, 1, 255}, "ratio": map[string]any{"scale": int32(3), "value": []byte{0x04, 0xd2}},
		"ratio2": nil, "2nd col-name": int32(7), "at": 90 * time.Minute,
	}
	ev := &Event{Op: OpUpdate, Before: Row{"id": int64(42)}, After: after,
		Source: SourceInfo{TsMs: 1705314600000, LSN: 123456, TxID: 789, Snapshot: "false"}, TsMs: 1705314601000}
	native, err := tb.Value(ev)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := vc.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	back, _, err := vc.NativeFromBinary(bin)
	if err != nil {
		t.Fatal(err)
	}
	m := back.(map[string]any)
	if m["op"] != "u" {
		t.Fatalf("op %v", m["op"])
	}
	a := m["after"].(map[string]any)["riacho.erp.public.invoices.Value"].(map[string]any)
	if got := a["total"].(map[string]any)["bytes.decimal"].(*big.Rat); got.Cmp(total) != 0 {
		t.Fatalf("total %v", got.FloatString(2))
	}
	if got := a["paid_at"].(map[string]any)["long.timestamp-micros"].(time.Time); !got.Equal(paid) {
		t.Fatalf("paid_at %v", got)
	}
	if got := a["due"].(map[string]any)["int.date"].(time.Time); !got.Equal(due) {
		t.Fatalf("due %v", got)
	}
	if got := a["_2nd_col_name"].(map[string]any)["int"]; got != int32(7) {
		t.Fatalf("sanitised column: %v", got)
	}
	if got := a["tags"].(map[string]any)["array"].([]any); len(got) != 3 || got[1] != nil {
		t.Fatalf("tags %v", got)
	}
	if a["ratio2"] != nil {
		t.Fatalf("ratio2 %v", a["ratio2"])
	}
	b := m["before"].(map[string]any)["riacho.erp.public.invoices.Value"].(map[string]any)
	if b["id"].(map[string]any)["long"] != int64(42) || b["note"] != nil {
		t.Fatalf("before %v", b)
	}
	src := m["source"].(map[string]any)
	if src["lsn"].(map[string]any)["long"] != int64(123456) || src["connector"] != "postgresql" || src["version"] != Version || src["table"] != "invoices" {
		t.Fatalf("source %v", src)
	}
	if src["cursor"] != nil {
		t.Fatalf("cursor %v", src["cursor"])
	}
	if !strings.Contains(vs, `"doc":"column 2nd col-name"`) {
		t.Fatalf("doc of renamed column missing: %s", vs)
	}
}

func TestKey(t *testing.T) {
	tb := sample()
	ks, err := tb.KeySchema()
	if err != nil {
		t.Fatal(err)
	}
	kc := codec(t, ks)
	k, err := tb.KeyOf(Row{"id": int64(9), "note": "x"})
	if err != nil {
		t.Fatal(err)
	}
	bin, err := kc.BinaryFromNative(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	back, _, _ := kc.NativeFromBinary(bin)
	if !reflect.DeepEqual(back, map[string]any{"id": int64(9)}) {
		t.Fatalf("key %v", back)
	}
	if _, err := tb.KeyOf(Row{"note": "x"}); err == nil || !strings.Contains(err.Error(), `"id"`) {
		t.Fatalf("missing key column: %v", err)
	}
	nokey := &Table{Source: "s", Name: "log", Columns: []Field{{Name: "line", Type: "string"}}}
	if ks, err := nokey.KeySchema(); err != nil || ks != "" {
		t.Fatalf("keyless schema %q %v", ks, err)
	}
	if k, err := nokey.KeyOf(Row{"line": "x"}); err != nil || k != nil {
		t.Fatalf("keyless key %v %v", k, err)
	}
}

func TestUnchangedToast(t *testing.T) {
	tb := sample()
	vc := codec(t, must(tb.ValueSchema()))
	ev := &Event{Op: OpUpdate, After: Row{"id": int64(1)}, Unchanged: []string{"note", "raw", "total"}}
	native, err := tb.Value(ev)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := vc.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatal(err)
	}
	back, _, _ := vc.NativeFromBinary(bin)
	m := back.(map[string]any)
	a := m["after"].(map[string]any)["riacho.erp.public.invoices.Value"].(map[string]any)
	if a["note"].(map[string]any)["string"] != Unavailable {
		t.Fatalf("note %v", a["note"])
	}
	if string(a["raw"].(map[string]any)["bytes"].([]byte)) != Unavailable {
		t.Fatalf("raw %v", a["raw"])
	}
	if a["total"] != nil {
		t.Fatalf("total %v", a["total"])
	}
	if got := m["unchanged"].([]any); len(got) != 3 {
		t.Fatalf("unchanged %v", got)
	}
}

func TestDeleteAndTruncate(t *testing.T) {
	tb := sample()
	vc := codec(t, must(tb.ValueSchema()))
	for _, ev := range []*Event{
		{Op: OpDelete, Before: Row{"id": int64(1), "note": "bye"}},
		{Op: OpTruncate},
	} {
		native, err := tb.Value(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := vc.BinaryFromNative(nil, native); err != nil {
			t.Fatalf("%c: %v", ev.Op, err)
		}
		if native["after"] != nil {
			t.Fatalf("%c: after %v", ev.Op, native["after"])
		}
	}
}

func TestErrors(t *testing.T) {
	tb := sample()
	if _, err := tb.Value(&Event{Op: 'x'}); err == nil {
		t.Fatal("unknown op accepted")
	}
	if _, err := tb.Value(&Event{Op: OpCreate, After: Row{"nope": 1}}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown column: %v", err)
	}
	bad := []*Table{
		{Name: "x", Columns: []Field{{Name: "a", Type: "int"}}}, // no source
		{Source: "s", Name: "x"},                                // no columns
		{Source: "s", Name: "x", Columns: []Field{{Name: "a", Type: "int"}, {Name: "a", Type: "int"}}}, // dup
		{Source: "s", Name: "x", Columns: []Field{{Name: "a", Type: "int"}}, Key: []string{"b"}},
		{Source: "s", Name: "x", Columns: []Field{{Name: "a", Type: []any{"null", "int"}}}},
		{Source: "s", Name: "x", Columns: []Field{{Name: "a", Type: 3}}},
	}
	for i, b := range bad {
		if _, err := b.ValueSchema(); err == nil {
			t.Errorf("bad table %d accepted", i)
		}
	}
}

func TestAddColumnIsCompatibleShape(t *testing.T) {
	v1 := sample()
	v2 := sample()
	v2.Columns = append(v2.Columns, Field{Name: "extra", Type: "string"})
	c1 := codec(t, must(v1.ValueSchema()))
	c2 := codec(t, must(v2.ValueSchema()))
	// A v1 record decodes under v2 only through schema resolution, which
	// the registry checks; here: every new field is nullable with a default.
	var s map[string]any
	if err := json.Unmarshal([]byte(must(v2.ValueSchema())), &s); err != nil {
		t.Fatal(err)
	}
	val := s["fields"].([]any)[0].(map[string]any)["type"].([]any)[1].(map[string]any)
	last := val["fields"].([]any)[len(v2.Columns)-1].(map[string]any)
	if last["name"] != "extra" || last["default"] != nil {
		t.Fatalf("new column %v", last)
	}
	if _, ok := last["default"]; !ok {
		t.Fatal("new column has no default")
	}
	_ = c1
	_ = c2
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func BenchmarkValueEncode(b *testing.B) {
	tb := &Table{Source: "bench", Connector: "postgresql", Schema: "public", Name: "pgbench_accounts",
		Columns: []Field{{Name: "aid", Type: "int"}, {Name: "bid", Type: "int"}, {Name: "abalance", Type: "int"}, {Name: "filler", Type: "string"}},
		Key:     []string{"aid"}}
	if err := tb.Compile(); err != nil {
		b.Fatal(err)
	}
	c, err := goavro.NewCodec(must(tb.ValueSchema()))
	if err != nil {
		b.Fatal(err)
	}
	ev := &Event{Op: OpUpdate, After: Row{"aid": int32(1), "bid": int32(1), "abalance": int32(-4210), "filler": strings.Repeat(" ", 84)},
		Source: SourceInfo{TsMs: 1, LSN: 1, TxID: 1, Snapshot: "false"}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		n, err := tb.Value(ev)
		if err != nil {
			b.Fatal(err)
		}
		buf, err = c.BinaryFromNative(buf[:0], n)
		if err != nil {
			b.Fatal(err)
		}
	}
}
