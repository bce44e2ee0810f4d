package poll_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/poll"
)

func num(s string) json.Number { return json.Number(s) }

func TestFromJSON(t *testing.T) {
	brt := time.FixedZone("", -3*3600)
	for _, tc := range []struct {
		typ  string
		in   any
		want any
		bad  bool
	}{
		{"string", "x", "x", false},
		{"string", num("12.50"), "12.50", false},
		{"string", []any{"a"}, `["a"]`, false},
		{"long", num("42"), int64(42), false},
		{"long", "42", int64(42), false},
		{"long", num("4.2"), nil, true},
		{"long", num("99999999999999999999"), nil, true},
		{"long", true, nil, true},
		{"double", num("1.5"), 1.5, false},
		{"double", "1e400", nil, true},
		{"boolean", "tYES", true, false},
		{"boolean", "tNO", false, false},
		{"boolean", true, true, false},
		{"boolean", "maybe", nil, true},
		{"decimal(10,2)", num("1234.56"), big.NewRat(123456, 100), false},
		{"decimal(10,2)", "0.125", big.NewRat(13, 100), false},   // rounds half away from zero
		{"decimal(10,2)", "-0.125", big.NewRat(-13, 100), false}, // likewise
		{"decimal(10,2)", num("1e2"), big.NewRat(100, 1), false},
		{"decimal(4,2)", num("100.00"), nil, true}, // 5 digits
		{"decimal(10,2)", "1,50", nil, true},
		{"decimal(10,2)", "0x10", nil, true},
		{"decimal(10,2)", "1e999999999", nil, true},
		{"date", "2026-05-01", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), false},
		{"date", "2026-05-01T00:00:00Z", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), false},
		{"date", "2026-05-01T23:00:00-03:00", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), false}, // the date as written
		{"date", "01/05/2026", nil, true},
		{"timestamp", "2026-05-01T10:00:00-03:00", time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC), false},
		{"timestamp", "2026-05-01T10:00:00.5", time.Date(2026, 5, 1, 13, 0, 0, 500_000_000, time.UTC), false}, // no offset: loc
		{"timestamp", "soon", nil, true},
		{"long", nil, nil, false},
	} {
		ft, err := poll.ParseFieldType(tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ft.FromJSON(tc.in, brt)
		if tc.bad {
			if !errors.Is(err, poll.ErrBadValue) {
				t.Errorf("%s from %#v: err %v, want ErrBadValue", tc.typ, tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s from %#v: %v", tc.typ, tc.in, err)
			continue
		}
		switch w := tc.want.(type) {
		case *big.Rat:
			if g, ok := got.(*big.Rat); !ok || g.Cmp(w) != 0 {
				t.Errorf("%s from %#v = %v, want %v", tc.typ, tc.in, got, w.FloatString(2))
			}
		case time.Time:
			if g, ok := got.(time.Time); !ok || !g.Equal(w) || g.Location() != time.UTC {
				t.Errorf("%s from %#v = %v, want %v UTC", tc.typ, tc.in, got, w)
			}
		default:
			if got != tc.want {
				t.Errorf("%s from %#v = %#v, want %#v", tc.typ, tc.in, got, tc.want)
			}
		}
	}
}

func TestParseFieldType(t *testing.T) {
	for _, ok := range []string{"string", "long", "double", "boolean", "date", "timestamp", "decimal(19,6)", "decimal(1,0)"} {
		if _, err := poll.ParseFieldType(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "int", "decimal", "decimal(2,3)", "decimal(0,0)", "decimal(77,2)", "decimal(a,b)"} {
		if _, err := poll.ParseFieldType(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	ft, _ := poll.ParseFieldType("decimal(19,6)")
	m, ok := ft.Avro().(map[string]any)
	if !ok || m["logicalType"] != "decimal" || m["precision"] != 19 || m["scale"] != 6 {
		t.Fatalf("Avro() = %v", ft.Avro())
	}
}

func TestJSONEntityRecord(t *testing.T) {
	e, err := poll.NewJSONEntity(poll.EntityConfig{Name: "Deals", Key: []poll.FieldConfig{{Name: "Id", Type: "long"}},
		Fields: []poll.FieldConfig{{Name: "Amount", Type: "decimal(10,2)"}}, UpdatedAt: "LastUpdateDate"},
		[]poll.FieldConfig{{Name: "LastUpdateDate", Type: "timestamp"}}, time.UTC, "ploomes", "", "api")
	if err != nil {
		t.Fatal(err)
	}
	tbl := e.Table()
	if tbl.Name != "deals" || tbl.Schema != "api" || len(tbl.Columns) != 4 || tbl.Columns[3].Name != poll.RawColumn || tbl.Key[0] != "Id" {
		t.Fatalf("table %+v", tbl)
	}
	tsOf := func(obj map[string]any) (time.Time, error) {
		s, _ := obj["LastUpdateDate"].(string)
		return poll.ParseTimestamp(s, time.UTC)
	}
	raw := `{"Id": 7, "Amount": "abc", "LastUpdateDate": "2026-05-01T10:00:00Z", "Extra": {"deep": [1,2]}}`
	r := e.Record([]byte(raw), tsOf)
	if r.Err != nil || r.Key[0] != int64(7) || r.Values["Amount"] != nil || len(r.Problems) != 1 || r.Values[poll.RawColumn] != raw {
		t.Fatalf("record %+v", r)
	}
	for _, bad := range []string{`{"Amount": 1, "LastUpdateDate": "2026-05-01T10:00:00Z"}`, `{"Id": 1}`, `[1]`, `null`, `{"Id": 1} {}`} {
		if r := e.Record([]byte(bad), tsOf); r.Err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestKeyString(t *testing.T) {
	if got := poll.KeyString([]any{int64(5), "a\"b", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), big.NewRat(1, 4)}); got != `[5,"a\"b","2026-01-02T03:04:05Z","1/4"]` {
		t.Fatalf("KeyString = %s", got)
	}
	if poll.KeyString([]any{int64(1), int64(23)}) == poll.KeyString([]any{int64(12), int64(3)}) {
		t.Fatal("composite keys collide")
	}
}

func FuzzJSONEntityRecord(f *testing.F) {
	e, err := poll.NewJSONEntity(poll.EntityConfig{Name: "Invoices", Key: []poll.FieldConfig{{Name: "DocEntry", Type: "long"}},
		Fields: []poll.FieldConfig{{Name: "DocTotal", Type: "decimal(19,6)"}, {Name: "DocDate", Type: "date"}, {Name: "Ok", Type: "boolean"},
			{Name: "At", Type: "timestamp"}, {Name: "Rate", Type: "double"}, {Name: "Name", Type: "string"}}, UpdatedAt: "UpdateDate"},
		[]poll.FieldConfig{{Name: "UpdateDate", Type: "date"}}, time.UTC, "sapb1", "C", "b1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"DocEntry": 1, "DocTotal": 10.5, "DocDate": "2026-05-01", "UpdateDate": "2026-05-01", "Ok": "tYES"}`)
	f.Add(`{"DocEntry": "1", "DocTotal": "1e5", "At": "2026-05-01T10:00:00-03:00", "Rate": 1e308, "Name": {"a": [null]}}`)
	f.Add(`{"DocEntry": 1e100}`)
	f.Add(`{}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, raw string) {
		r := e.Record([]byte(raw), func(obj map[string]any) (time.Time, error) {
			s, _ := obj["UpdateDate"].(string)
			return poll.ParseDate(s)
		})
		if r.Err == nil {
			if len(r.Key) != 1 || r.Values[poll.RawColumn] != raw {
				t.Fatalf("record without error lacks key or raw: %+v", r)
			}
			if _, ok := r.Key[0].(int64); !ok {
				t.Fatalf("key %#v is not a long", r.Key[0])
			}
			if d, ok := r.Values["DocTotal"].(*big.Rat); ok && d.Denom().BitLen() > 20 {
				t.Fatalf("decimal %v has more than 6 fraction digits", d)
			}
		} else if strings.TrimSpace(r.Err.Error()) == "" {
			t.Fatal("empty error")
		}
	})
}

func BenchmarkJSONEntityRecord(b *testing.B) {
	e, err := poll.NewJSONEntity(poll.EntityConfig{Name: "Invoices", Key: []poll.FieldConfig{{Name: "DocEntry", Type: "long"}},
		Fields: []poll.FieldConfig{{Name: "CardCode", Type: "string"}, {Name: "DocTotal", Type: "decimal(19,6)"}, {Name: "DocDate", Type: "date"}}, UpdatedAt: "UpdateDate"},
		[]poll.FieldConfig{{Name: "UpdateDate", Type: "date"}, {Name: "UpdateTime", Type: "string"}}, time.UTC, "sapb1", "C", "b1")
	if err != nil {
		b.Fatal(err)
	}
	raw := []byte(`{"DocEntry": 1234, "DocNum": 99, "CardCode": "C0001", "DocTotal": 1520.75, "DocDate": "2026-05-01", "UpdateDate": "2026-05-01", "UpdateTime": "10:11:12",
		"DocumentLines": [{"LineNum": 0, "ItemCode": "A001", "Quantity": 2, "Price": 760.375}, {"LineNum": 1, "ItemCode": "A002", "Quantity": 1, "Price": 0}]}`)
	tsOf := func(obj map[string]any) (time.Time, error) { return poll.ParseDate(obj["UpdateDate"].(string)) }
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if r := e.Record(raw, tsOf); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}
