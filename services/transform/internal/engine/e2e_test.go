package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
)

var day = time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)

// seedLeads is input covering every branch of the seed's model.
func seedLeads() ([]string, []map[string]any) {
	return []string{"1", "2", "3", "4", "5"}, []map[string]any{
		lead(1, "  Ana@Example.COM ", "+5511999990001", day, "Won"),
		lead(2, "bruno@example.com", nil, day.Add(time.Hour), "Lost"), // 2026-11-21 00:30 UTC
		lead(3, nil, "+5511999990003", day, "Won"),                    // no email: dropped
		lead(4, "carla@x.com.br", "11 3333-4444", day, "Open"),
		lead(5, "DIEGO@X.COM", nil, day, "won"), // the CASE is case-sensitive
	}
}

func TestSeedModelEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, leadsTopic, 2)
	enc := h.encoder(leadsTopic, leadSchema)
	keys, vals := seedLeads()
	h.produce(leadsTopic, enc, keys, vals)
	h.start(testConfig(), seedProject(t, nil))

	out := h.readCommitted("staging.stg_ploomes_leads", 4, time.Minute)
	if len(out) != 4 {
		t.Fatalf("%d output records, want 4", len(out))
	}
	got := map[string]string{}
	for _, rec := range out {
		v := h.decode(rec)
		created := unwrap(v["created_date"]).(time.Time)
		got[string(rec.Key)] = strings.Join([]string{
			formatAny(unwrap(v["lead_id"])), formatAny(unwrap(v["email"])), formatAny(unwrap(v["phone"])),
			created.UTC().Format("2006-01-02"), formatAny(unwrap(v["status_ptbr"])),
		}, "|")
		if header(rec, HeaderModel) != "stg_ploomes_leads" {
			t.Errorf("record %s: header %s = %q", rec.Key, HeaderModel, header(rec, HeaderModel))
		}
	}
	want := map[string]string{
		"1": "1|ana@example.com|+5511999990001|2026-11-20|Convertido",
		"2": "2|bruno@example.com||2026-11-21|Perdido",
		"4": "4|carla@x.com.br|11 3333-4444|2026-11-20|Em Andamento",
		"5": "5|diego@x.com||2026-11-20|Em Andamento",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("lead %s: got %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("output keys %v, want %v", sortedKeys(out), []string{"1", "2", "4", "5"})
	}
	// The output schema is registered, derived from the query's types.
	s, err := h.rc.Latest(context.Background(), "staging.stg_ploomes_leads-value")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{`"name":"lead_id"`, `"name":"created_date"`, `"logicalType":"date"`, `"name":"status_ptbr"`} {
		if !strings.Contains(strings.ReplaceAll(s.Schema, " ", ""), f) {
			t.Errorf("output schema lacks %s: %s", f, s.Schema)
		}
	}
}

func TestModelDAGRunsInOrder(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, leadsTopic, 1)
	enc := h.encoder(leadsTopic, leadSchema)
	keys, vals := seedLeads()
	h.produce(leadsTopic, enc, keys, vals)
	p := seedProject(t, map[string]string{
		"models/marts/won_leads.sql":   "{{ config(unique_key='lead_id') }}\nSELECT lead_id, email, created_date FROM {{ ref('stg_ploomes_leads') }} WHERE status_ptbr = 'Convertido'\n",
		"models/marts/won_domains.sql": "{{ config(unique_key='lead_id') }}\nSELECT lead_id, split_part(email, '@', 2) AS domain FROM {{ ref('won_leads') }}\n",
		"models/marts/open_leads.sql":  "{{ config(unique_key=['lead_id', 'status_ptbr']) }}\nSELECT lead_id, status_ptbr FROM {{ ref('stg_ploomes_leads') }} WHERE status_ptbr = 'Em Andamento'\n",
	})
	var order []string
	for _, m := range p.Order {
		order = append(order, m.Name)
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	if pos["stg_ploomes_leads"] >= pos["won_leads"] || pos["won_leads"] >= pos["won_domains"] || pos["stg_ploomes_leads"] >= pos["open_leads"] {
		t.Fatalf("order %v does not put inputs first", order)
	}
	h.start(testConfig(), p)
	won := h.readCommitted("staging.won_domains", 1, time.Minute)
	if v := h.decode(won[0]); string(won[0].Key) != "1" || unwrap(v["domain"]) != "example.com" {
		t.Errorf("won_domains: key %s value %v, want 1 example.com", won[0].Key, v)
	}
	open := h.readCommitted("staging.open_leads", 2, time.Minute)
	if got := sortedKeys(open); got[0] != `["4","Em Andamento"]` || got[1] != `["5","Em Andamento"]` {
		t.Errorf("open_leads keys %v", got)
	}
}

func TestDuplicatesDroppedAcrossRestart(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, leadsTopic, 1)
	enc := h.encoder(leadsTopic, leadSchema)
	first := []map[string]any{
		lead(1, "a@x.com", nil, day, "Won"), lead(2, "b@x.com", nil, day, "Open"), lead(3, "c@x.com", nil, day, "Lost"),
	}
	// Each lead delivered twice (a webhook re-delivery), interleaved.
	h.produce(leadsTopic, enc, []string{"1", "2", "1", "3", "2", "3"}, []map[string]any{first[0], first[1], first[0], first[2], first[1], first[2]})
	p := seedProject(t, nil)
	r := h.start(testConfig(), p)
	h.readCommitted("staging.stg_ploomes_leads", 3, time.Minute)
	waitFor(t, 30*time.Second, "the duplicates to be counted", func() bool {
		return r.e.Status(context.Background(), false)[0].Duplicates == 3
	})
	r.close()

	// A new engine recovers the state from the output topic: a replayed
	// lead 1 is dropped, a changed lead 2 and a new lead 9 go through.
	h.produce(leadsTopic, enc, []string{"1", "3", "2", "9"}, []map[string]any{
		first[0], first[2], lead(2, "b@x.com", nil, day, "Won"), lead(9, "z@x.com", nil, day, "Open"),
	})
	r2 := h.start(testConfig(), p)
	out := h.readCommitted("staging.stg_ploomes_leads", 5, time.Minute)
	if got := strings.Join(sortedKeys(out), ","); got != "1,2,2,3,9" {
		t.Errorf("output keys %s, want 1,2,2,3,9", got)
	}
	if st := r2.e.Status(context.Background(), false)[0]; st.Duplicates != 2 || st.Out != 2 {
		t.Errorf("after restart: %d duplicates dropped and %d produced, want 2 and 2", st.Duplicates, st.Out)
	}
}

func TestBadRecordsGoToTheDeadLetterTopic(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, leadsTopic, 1)
	enc := h.encoder(leadsTopic, leadSchema)
	p := loadProject(t, map[string]string{
		"models/sources.yml": seedSources,
		"models/phones.sql":  "{{ config(unique_key='lead_id') }}\nSELECT lead_id, CAST(phone AS BIGINT) AS phone_number FROM {{ source('ploomes', 'leads') }}\n",
	})
	h.produce(leadsTopic, enc, []string{"1", "2"}, []map[string]any{lead(1, "a@x", "123", day, "Won"), lead(2, "b@x", "not a number", day, "Won")})
	h.produceRaw(
		&kgo.Record{Topic: leadsTopic, Key: []byte("3"), Value: []byte(`{"not":"avro"}`)},
		&kgo.Record{Topic: leadsTopic, Key: []byte("4"), Value: avro.AppendWire(nil, 99999, []byte{2})},
	)
	h.produce(leadsTopic, enc, []string{"5", "6"}, []map[string]any{lead(5, "c@x", "456", day, "Won"), lead(6, "d@x", "789x", day, "Won")})
	r := h.start(testConfig(), p)

	out := h.readCommitted("staging.phones", 2, time.Minute)
	if got := strings.Join(sortedKeys(out), ","); got != "1,5" {
		t.Errorf("outputs %s, want 1,5", got)
	}
	dead := h.readCommitted("dlq.transform", 4, time.Minute)
	kinds := map[string]string{}
	for _, d := range dead {
		kinds[string(d.Key)] = header(d, HeaderKind)
		if header(d, HeaderReason) == "" || header(d, HeaderTopic) != leadsTopic || header(d, HeaderOffset) == "" {
			t.Errorf("dead letter %s lacks its reason or origin: %v", d.Key, d.Headers)
		}
	}
	want := map[string]string{"2": reasonSQL, "3": reasonWire, "4": reasonSchema, "6": reasonSQL}
	for k, w := range want {
		if kinds[k] != w {
			t.Errorf("dead letter of record %s: kind %q, want %q (all: %v)", k, kinds[k], w, kinds)
		}
	}
	for _, d := range dead {
		if string(d.Key) == "2" && !strings.Contains(header(d, HeaderReason), "Conversion Error") {
			t.Errorf("reason of record 2: %q", header(d, HeaderReason))
		}
	}
	if st := r.e.Status(context.Background(), false)[0]; st.DeadLetters != 4 || st.State != "running" {
		t.Errorf("status: %d dead letters, state %s", st.DeadLetters, st.State)
	}
}

func TestIncompatibleModelChangeIsRefused(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, leadsTopic, 1)
	enc := h.encoder(leadsTopic, leadSchema)
	h.produce(leadsTopic, enc, []string{"1"}, []map[string]any{lead(1, "a@x", nil, day, "Won")})
	// An earlier version of the model wrote lead_id as a required string.
	old := `{"type":"record","name":"stg_ploomes_leads","namespace":"riacho.staging","fields":[{"name":"lead_id","type":"string"}]}`
	if _, err := h.rc.Register(context.Background(), "staging.stg_ploomes_leads-value", old); err != nil {
		t.Fatal(err)
	}
	r := h.start(testConfig(), seedProject(t, nil))
	var st ModelStatus
	waitFor(t, 30*time.Second, "the model to be refused", func() bool {
		st = r.e.Status(context.Background(), false)[0]
		return st.State == "failed"
	})
	if !strings.Contains(st.LastError, ErrIncompatibleModel.Error()) || !strings.Contains(st.LastError, "BACKWARD: the new schema cannot read data written with version 1") {
		t.Errorf("last error %q does not carry the registry's reason", st.LastError)
	}
	if st.Out != 0 {
		t.Errorf("%d records produced by a refused model", st.Out)
	}
}

// leadSchemaV2 adds a nullable field, a BACKWARD-compatible change.
const leadSchemaV2 = `{"type":"record","name":"Lead","namespace":"riacho.raw.ploomes","fields":[
 {"name":"lead_id","type":"long"},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"phone","type":["null","string"],"default":null},
 {"name":"created_at","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"status","type":"string"},
 {"name":"campaign","type":["null","string"],"default":null}]}`

func TestInputSchemaEvolves(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, leadsTopic, 1)
	p := loadProject(t, map[string]string{
		"models/sources.yml":   seedSources,
		"models/all_leads.sql": "{{ config(unique_key='lead_id') }}\nSELECT * FROM {{ source('ploomes', 'leads') }}\n",
	})
	h.produce(leadsTopic, h.encoder(leadsTopic, leadSchema), []string{"1"}, []map[string]any{lead(1, "a@x", nil, day, "Won")})
	h.start(testConfig(), p)
	h.readCommitted("staging.all_leads", 1, time.Minute)
	v2 := lead(2, "b@x", nil, day, "Won")
	v2["campaign"] = map[string]any{"string": "black-friday"}
	h.produce(leadsTopic, h.encoder(leadsTopic, leadSchemaV2), []string{"2"}, []map[string]any{v2})
	out := h.readCommitted("staging.all_leads", 2, time.Minute)
	for _, rec := range out {
		v := h.decode(rec)
		switch string(rec.Key) {
		case "1":
			if _, ok := v["campaign"]; ok {
				t.Errorf("lead 1 was written with the first output schema, got %v", v)
			}
		case "2":
			if unwrap(v["campaign"]) != "black-friday" {
				t.Errorf("lead 2: campaign %v", v["campaign"])
			}
		}
	}
	versions, err := h.rc.Latest(context.Background(), "staging.all_leads-value")
	if err != nil || versions.Version != 2 {
		t.Errorf("output subject latest version %d (%v), want 2", versions.Version, err)
	}
}
