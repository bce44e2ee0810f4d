package webhook

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseGeneric(t *testing.T) {
	obj := readTestdata(t, "generic/object.json")
	arr := readTestdata(t, "generic/array.json")
	tests := []struct {
		name  string
		body  []byte
		key   string
		ids   []string // "" = expect a 64-hex content hash
		times []time.Time
	}{
		{"object with key", obj, "idem-1", []string{"idem-1"}, []time.Time{time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)}},
		{"object without key", obj, "", []string{""}, []time.Time{time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)}},
		{"array with key", arr, "batch-9", []string{"batch-9:0", "batch-9:1", "batch-9:2"},
			[]time.Time{time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC), testNow, testNow}},
		{"array without key", arr, "", []string{"", "", ""}, []time.Time{time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC), testNow, testNow}},
		{"one-element array keeps the key", []byte(` [ {"a":1} ] `), "k", []string{"k"}, []time.Time{testNow}},
		{"case-insensitive time field", []byte(`{"Event_Time":"2026-01-02T03:04:05.123456Z"}`), "", []string{""},
			[]time.Time{time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)}},
		{"numeric timestamp ignored", []byte(`{"timestamp":1764150000}`), "", []string{""}, []time.Time{testNow}},
		{"empty array", []byte(`[]`), "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := ParseGeneric("site", "orders", tt.body, tt.key, testNow)
			if err != nil || len(events) != len(tt.ids) {
				t.Fatalf("%d events, %v", len(events), err)
			}
			vals := roundTrip(t, events)
			for i, ev := range events {
				if ev.Topic != "raw.site.orders" || !ev.Time.Equal(tt.times[i]) {
					t.Errorf("event %d topic %s time %v, want %v", i, ev.Topic, ev.Time, tt.times[i])
				}
				if tt.ids[i] != "" && ev.ID != tt.ids[i] || tt.ids[i] == "" && len(ev.ID) != 64 {
					t.Errorf("event %d id %q, want %q", i, ev.ID, tt.ids[i])
				}
				p := vals[i]["payload"].(string)
				if !strings.HasPrefix(p, "{") || !bytes.Contains(tt.body, []byte(p)) {
					t.Errorf("payload not the object verbatim: %s", p)
				}
				if !isNull(vals[i], "file_name") || !isNull(vals[i], "row_number") {
					t.Errorf("file fields set: %v", vals[i])
				}
			}
		})
	}
}

func TestParseGenericContentHash(t *testing.T) {
	a, _ := ParseGeneric("site", "orders", []byte(`{"id":1}`), "", testNow)
	b, _ := ParseGeneric("site", "orders", []byte(` {"id":1}`+"\n"), "", testNow.Add(time.Hour))
	c, _ := ParseGeneric("site", "orders", []byte(`{"id":2}`), "", testNow)
	d, _ := ParseGeneric("site", "refunds", []byte(`{"id":1}`), "", testNow)
	if a[0].ID != b[0].ID {
		t.Error("identical object re-delivered got another id")
	}
	if a[0].ID == c[0].ID || a[0].ID == d[0].ID {
		t.Error("different content or entity share an id")
	}
}

func TestParseGenericErrors(t *testing.T) {
	tests := []struct {
		name, source, entity, body string
		want                       error
	}{
		{"bad source", "Site", "orders", `{}`, ErrBadName},
		{"bad entity", "site", "1orders", `{}`, ErrBadName},
		{"empty source", "", "orders", `{}`, ErrBadName},
		{"long entity", "site", "a" + strings.Repeat("b", 63), `{}`, ErrBadName},
		{"string", "site", "orders", `"x"`, ErrMalformed},
		{"number", "site", "orders", `42`, ErrMalformed},
		{"null", "site", "orders", `null`, ErrMalformed},
		{"array of numbers", "site", "orders", `[{"a":1}, 2]`, ErrMalformed},
		{"broken", "site", "orders", `{"a":`, ErrMalformed},
		{"trailing data", "site", "orders", `{} {}`, ErrMalformed},
		{"empty", "site", "orders", ``, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseGeneric(tt.source, tt.entity, []byte(tt.body), "", testNow); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"a", "site", "sap_b1", "a" + strings.Repeat("0", 62)} {
		if !ValidName(ok) {
			t.Errorf("ValidName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "A", "1a", "_a", "a-b", "a.b", "á", "a b", "a" + strings.Repeat("0", 63)} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
}

func FuzzParseGeneric(f *testing.F) {
	for _, s := range seeds(f, "generic") {
		f.Add("site", "orders", s, "")
	}
	f.Add("site", "orders", []byte(`[{"a":1},{"b":2}]`), "key")
	f.Add("Bad", "x", []byte(`{}`), "")
	f.Fuzz(func(t *testing.T, source, entity string, body []byte, key string) {
		events, err := ParseGeneric(source, entity, body, key, testNow)
		checkParsed(t, body, events, err, ErrMalformed, ErrBadName)
	})
}
