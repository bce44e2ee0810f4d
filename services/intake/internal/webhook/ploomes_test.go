package webhook

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePloomes(t *testing.T) {
	tests := []struct {
		file    string
		topic   string
		id      string
		time    time.Time
		fields  map[string]string
		longs   map[string]any // nil value = null
		hasOld  bool
		hasNew  bool
		entityV string
	}{
		{"deal_update.json", "raw.ploomes.deals", "deals:40123:Update:2026-11-26T09:15:30.123-03:00",
			time.Date(2026, 11, 26, 12, 15, 30, 123e6, time.UTC),
			map[string]string{"action": "Update", "ploomes_entity": "Deal"},
			map[string]any{"resource_id": int64(40123), "user_id": nil}, true, true, "deals"},
		{"contact_create.json", "raw.ploomes.contacts", "contacts:777:Create:2026-11-26T08:00:00-03:00",
			time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC),
			map[string]string{"action": "Create"}, map[string]any{"resource_id": int64(777)}, false, true, "contacts"},
		{"resource_shape.json", "raw.ploomes.deals", "deals:40123:Win:", testNow,
			map[string]string{"action": "Win"}, map[string]any{"resource_id": int64(40123), "user_id": int64(55)}, false, false, "deals"},
		{"delete.json", "raw.ploomes.interaction_records", "interaction_records:9001:Delete:", testNow,
			map[string]string{"action": "Delete", "ploomes_entity": "InteractionRecord"}, map[string]any{"resource_id": int64(9001)}, true, false, "interaction_records"},
		{"unknown_shape.json", "raw.ploomes.unknown", "unknown:::", testNow,
			map[string]string{"action": "", "ploomes_entity": ""}, map[string]any{"resource_id": nil}, false, false, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, "ploomes/"+tt.file)
			events, err := ParsePloomes(body, testNow)
			if err != nil || len(events) != 1 {
				t.Fatalf("%d events, %v", len(events), err)
			}
			ev := events[0]
			if ev.Topic != tt.topic || !strings.HasPrefix(ev.ID, tt.id) || !ev.Time.Equal(tt.time.Truncate(time.Microsecond)) && !ev.Time.Equal(tt.time) {
				t.Fatalf("topic %s id %s time %v; want %s %s* %v", ev.Topic, ev.ID, ev.Time, tt.topic, tt.id, tt.time)
			}
			if strings.HasSuffix(tt.id, ":") && len(ev.ID) != len(tt.id)+64 {
				t.Fatalf("id %s: want a payload hash when LastUpdateDate is absent", ev.ID)
			}
			m := roundTrip(t, events)[0]
			if m["entity"] != tt.entityV {
				t.Errorf("entity %v", m["entity"])
			}
			for f, want := range tt.fields {
				if got := str(m, f); got != want {
					t.Errorf("%s = %q, want %q", f, got, want)
				}
			}
			for f, want := range tt.longs {
				got := m[f]
				if want == nil && got != nil || want != nil && (got == nil || got.(map[string]any)["long"] != want) {
					t.Errorf("%s = %v, want %v", f, got, want)
				}
			}
			if isNull(m, "old") == tt.hasOld || isNull(m, "new") == tt.hasNew {
				t.Errorf("old %v new %v", m["old"], m["new"])
			}
			if m["payload"] != string(bytes.TrimSpace(body)) {
				t.Errorf("payload changed: %s", m["payload"])
			}
		})
	}
}

func TestParsePloomesArrays(t *testing.T) {
	events, err := ParsePloomes(readTestdata(t, "ploomes/array.json"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	vals := roundTrip(t, events)
	topics := []string{events[0].Topic, events[1].Topic, events[2].Topic}
	if !slices.Equal(topics, []string{"raw.ploomes.quotes", "raw.ploomes.tasks", "raw.ploomes.custom_widget_things"}) {
		t.Fatalf("topics %v", topics)
	}
	// An offset-less LastUpdateDate is read as America/Sao_Paulo.
	if !events[0].Time.Equal(time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("time %v", events[0].Time)
	}
	if str(vals[1], "action") != "2" || vals[1]["user_id"].(map[string]any)["long"] != int64(3) ||
		vals[1]["resource_id"].(map[string]any)["long"] != int64(12) || str(vals[1], "ploomes_entity") != "12" {
		t.Errorf("numeric shape %v", vals[1])
	}

	events, err = ParsePloomes(readTestdata(t, "ploomes/array_with_scalars.json"), testNow)
	if err != nil || len(events) != 4 {
		t.Fatalf("%d events, %v", len(events), err)
	}
	for i, m := range roundTrip(t, events) {
		if events[i].Topic != "raw.ploomes.unknown" {
			t.Errorf("element %d on %s", i, events[i].Topic)
		}
		_ = m
	}
	if events[1].ID == events[2].ID {
		t.Error("different notifications share an id")
	}
}

func TestParsePloomesIDStable(t *testing.T) {
	body := readTestdata(t, "ploomes/resource_shape.json")
	a, _ := ParsePloomes(body, testNow)
	b, _ := ParsePloomes(body, testNow.Add(time.Minute))
	if a[0].ID != b[0].ID {
		t.Fatalf("re-delivery changed the id: %s vs %s", a[0].ID, b[0].ID)
	}
}

func TestParsePloomesErrors(t *testing.T) {
	for _, body := range []string{``, `  `, `{"Action":`, `[1,`, `nul`} {
		if _, err := ParsePloomes([]byte(body), testNow); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", body, err)
		}
	}
	events, err := ParsePloomes([]byte(`[]`), testNow)
	if err != nil || len(events) != 0 {
		t.Errorf("empty array: %v %v", events, err)
	}
}

func TestPloomesEntityMapping(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"Deal"`, "deals"}, {`"Deals"`, "deals"}, {`"deal"`, "deals"}, {`"Contact"`, "contacts"}, {`"Quote"`, "quotes"},
		{`"Order"`, "orders"}, {`"Task"`, "tasks"}, {`"InteractionRecord"`, "interaction_records"},
		{`"Product"`, "products"}, {`"User"`, "users"}, {`"Negócio"`, "deals"}, {`"Registro de Contato"`, "interaction_records"},
		{`1`, "contacts"}, {`2`, "deals"}, {`4`, "orders"}, {`7`, "quotes"}, {`10`, "products"}, {`12`, "tasks"}, {`36`, "interaction_records"},
		{`"2"`, "deals"}, {`99`, "entity_99"}, {`"Lead"`, "leads"}, {`"CustomField"`, "custom_fields"}, {`"Webhooks"`, "webhooks"},
		{`"HTTPThing!!"`, "http_things"}, {`"123abc"`, "abcs"}, {`"!!!"`, "unknown"}, {`""`, "unknown"}, {`null`, "unknown"},
		{`{"x":1}`, "unknown"}, {`"` + strings.Repeat("Ab", 100) + `"`, ""},
	}
	for _, tt := range tests {
		_, got := ploomesEntity([]byte(tt.in), nil)
		if tt.want == "" {
			if !ValidName(got) {
				t.Errorf("ploomesEntity(%.20s) = %q, not a valid name", tt.in, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("ploomesEntity(%s) = %q, want %q", tt.in, got, tt.want)
		}
		if !ValidName(got) {
			t.Errorf("%q is not a valid entity name", got)
		}
	}
	if _, got := ploomesEntity(nil, []byte(`36`)); got != "interaction_records" {
		t.Errorf("EntityId fallback = %q", got)
	}
}

func TestPloomesTopics(t *testing.T) {
	want := []string{"raw.ploomes.contacts", "raw.ploomes.deals", "raw.ploomes.interaction_records", "raw.ploomes.orders",
		"raw.ploomes.products", "raw.ploomes.quotes", "raw.ploomes.tasks", "raw.ploomes.unknown", "raw.ploomes.users"}
	if got := PloomesTopics(); !slices.Equal(got, want) {
		t.Fatalf("PloomesTopics() = %v", got)
	}
}

func TestCheckPloomesKey(t *testing.T) {
	const key = "s3cr3t-key"
	tests := []struct {
		name, header, body, want string
		err                      error
	}{
		{"header", key, `{}`, key, nil},
		{"header wins over body", key, `{"ValidationKey":"wrong"}`, key, nil},
		{"wrong header", "nope", `{"ValidationKey":"s3cr3t-key"}`, key, ErrBadValidationKey},
		{"body", "", `{"ResourceId":1,"ValidationKey":"s3cr3t-key"}`, key, nil},
		{"body lowercase key name", "", `{"validationKey":"s3cr3t-key"}`, key, nil},
		{"body wrong", "", `{"ValidationKey":"s3cr3t-kez"}`, key, ErrBadValidationKey},
		{"body prefix", "", `{"ValidationKey":"s3cr3t"}`, key, ErrBadValidationKey},
		{"array all good", "", `[{"ValidationKey":"s3cr3t-key"},{"ValidationKey":"s3cr3t-key"}]`, key, nil},
		{"array one missing", "", `[{"ValidationKey":"s3cr3t-key"},{"Action":"x"}]`, key, ErrMissingValidationKey},
		{"array one wrong", "", `[{"ValidationKey":"s3cr3t-key"},{"ValidationKey":"x"}]`, key, ErrBadValidationKey},
		{"no key anywhere", "", `{"Action":"Update"}`, key, ErrMissingValidationKey},
		{"numeric key", "", `{"ValidationKey":123}`, key, ErrMissingValidationKey},
		{"not json", "", `nope`, key, ErrMissingValidationKey},
		{"empty array", "", `[]`, key, ErrMissingValidationKey},
		{"unconfigured fails closed", key, `{}`, "", ErrBadValidationKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPloomesKey(tt.header, []byte(tt.body), tt.want)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("CheckPloomesKey = %v, want %v", err, tt.err)
			}
		})
	}
}

func FuzzParsePloomes(f *testing.F) {
	for _, s := range seeds(f, "ploomes") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := ParsePloomes(body, testNow)
		ms, ok := checkParsed(t, body, events, err, ErrMalformed)
		if !ok {
			return
		}
		for i, m := range ms {
			if !ValidName(m["entity"].(string)) || events[i].Topic != "raw.ploomes."+m["entity"].(string) {
				t.Fatalf("bad entity %q topic %s", m["entity"], events[i].Topic)
			}
		}
		_ = CheckPloomesKey("", body, "k") // must not panic
	})
}
