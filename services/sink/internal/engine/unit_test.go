package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func TestParseTopic(t *testing.T) {
	for _, tc := range []struct {
		topic                       string
		zone, source, entity, table string
		bad                         bool
	}{
		{topic: "raw.ploomes.leads", zone: "raw", source: "ploomes", entity: "leads", table: "raw_ploomes.leads"},
		{topic: "raw.erp.public.clientes", zone: "raw", source: "erp", entity: "public_clientes", table: "raw_erp.public_clientes"},
		{topic: "curated.sales.orders", zone: "curated", source: "sales", entity: "orders", table: "curated_sales.orders"},
		{topic: "raw.whatsapp", zone: "raw", source: "whatsapp", entity: "whatsapp", table: "raw_whatsapp.whatsapp"},
		{topic: "raw", bad: true},
		{topic: "raw..leads", bad: true},
		{topic: "raw.x.", bad: true},
	} {
		got, err := ParseTopic(tc.topic)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseTopic(%q) = %+v, want an error", tc.topic, got)
			}
			continue
		}
		if err != nil || got.Zone != tc.zone || got.Source != tc.source || got.Entity != tc.entity || got.Table() != tc.table {
			t.Errorf("ParseTopic(%q) = %+v (%s), %v", tc.topic, got, got.Table(), err)
		}
	}
}

const debeziumLike = `{"type":"record","name":"Envelope","namespace":"raw.erp","fields":[
 {"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"long"}]}],"default":null},
 {"name":"after","type":["null","Value"],"default":null},
 {"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium","fields":[
   {"name":"ts_ms","type":"long"},{"name":"db","type":"string"}]}},
 {"name":"op","type":"string"},
 {"name":"ts_ms","type":["null","long"],"default":null}]}`

func TestEventTimeFields(t *testing.T) {
	commit := time.Date(2024, 1, 15, 23, 59, 59, 0, time.UTC)
	processed := time.Date(2024, 1, 16, 0, 0, 3, 0, time.UTC)
	et, err := newEventTimer(debeziumLike, DefaultEventTimeFields)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(et.Fields(), ","); got != "source.ts_ms,ts_ms" {
		t.Errorf("fields found in the envelope: %s", got)
	}
	rec := map[string]any{
		"source": map[string]any{"ts_ms": commit.UnixMilli(), "db": "erp"},
		"ts_ms":  goavro.Union("long", processed.UnixMilli()),
	}
	if got, ok := et.Time(rec); !ok || !got.Equal(commit) {
		t.Errorf("event time %v %v, want the source commit time %v", got, ok, commit)
	}
	// A zero source time (unknown) falls through to the next field.
	rec["source"] = map[string]any{"ts_ms": int64(0), "db": "erp"}
	if got, ok := et.Time(rec); !ok || !got.Equal(processed) {
		t.Errorf("event time %v %v, want the processing time %v", got, ok, processed)
	}
	rec["ts_ms"] = nil
	if _, ok := et.Time(rec); ok {
		t.Error("a record without any event time has one")
	}

	for _, tc := range []struct {
		schema string
		value  any
		want   time.Time
	}{
		{`{"type":"record","name":"r","fields":[{"name":"event_time","type":{"type":"long","logicalType":"timestamp-micros"}}]}`, commit, commit},
		{`{"type":"record","name":"r","fields":[{"name":"timestamp","type":"string"}]}`, "1705363199", commit},
		{`{"type":"record","name":"r","fields":[{"name":"timestamp","type":"long"}]}`, int64(1705363199), commit},
		{`{"type":"record","name":"r","fields":[{"name":"created_at","type":["null","string"]}]}`, goavro.Union("string", "2024-01-15T20:59:59-03:00"), commit},
		{`{"type":"record","name":"r","fields":[{"name":"created_at","type":"string"}]}`, "2024-01-15 23:59:59", commit},
		{`{"type":"record","name":"r","fields":[{"name":"created_at","type":"long"}]}`, commit.UnixMicro(), commit},
	} {
		et, err := newEventTimer(tc.schema, DefaultEventTimeFields)
		if err != nil {
			t.Fatal(err)
		}
		var name string
		for _, f := range []string{"event_time", "timestamp", "created_at"} {
			if strings.Contains(tc.schema, `"`+f+`"`) {
				name = f
			}
		}
		got, ok := et.Time(map[string]any{name: tc.value})
		if tc.value == "1705363199" { // digits in a string are not a time
			if ok {
				t.Errorf("%s %v read as %v", name, tc.value, got)
			}
			continue
		}
		if !ok || !got.Equal(tc.want) {
			t.Errorf("%s %v (%T) read as %v %v, want %v", name, tc.value, tc.value, got, ok, tc.want)
		}
	}
	// Configured fields replace the defaults, in their order.
	et, err = newEventTimer(debeziumLike, []string{"ts_ms", "source.ts_ms"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(et.Fields(), ","); got != "ts_ms,source.ts_ms" {
		t.Errorf("configured fields: %s", got)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad regex", Config{Topics: "("}, "topics pattern"},
		{"dlq matched", Config{Topics: ".*"}, "dead-letter"},
		{"compression", Config{Compression: "brotli"}, "compression"},
		{"field path", Config{EventTimeFields: []string{"a."}}, "field path"},
		{"negative", Config{RotateRecords: -1}, "rotate records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error about %s", err, tc.want)
			}
		})
	}
}
