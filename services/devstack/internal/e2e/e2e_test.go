package e2e

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stepTimeout bounds the wait for one stage; on a quiet machine each takes
// seconds.
const stepTimeout = 90 * time.Second

// rotate is the sink's rotate interval in the end-to-end tests, so the
// lake's files appear within a second of the records.
const rotate = "RIACHO_SINK_ROTATE_INTERVAL=1s"

// TestEndToEnd posts signed webhooks to a running devstack and follows
// them through every stage, in order: the raw records in Kafka (Avro,
// decoded with the registry's schemas), the Parquet files of the lake and
// its Iceberg table, the staging and curated records (read_committed), a
// record the quality suites reject on its quarantine topic with the
// reasons, and the mrr metric over gRPC changing by exactly what the deal
// adds. Forged webhooks are refused with 401 and produce nothing. With a
// local PostgreSQL at wal_level=logical, a row inserted into a captured
// table also reaches its raw topic (the CDC).
func TestEndToEnd(t *testing.T) {
	opts := stackOptions(t, t.TempDir())
	cdc, cdcSkip := cdcSetup(t, &opts)
	h := startTB(t, opts, []string{rotate})
	ctx := context.Background()

	run := time.Now().UnixNano()
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 15, 12, 0, 0, 0, time.UTC)
	// good is a won annual plan of R$ 24.000,00: mrr of its month and
	// Mid-Market grows by R$ 2.000,00. bad has a negative amount (the
	// fct_subscriptions suite rejects monthly_value < 0) and an accented
	// e-mail (the seed's e-mail regex rejects it on stg_ploomes_leads).
	good := deal{ID: 7_000_000 + run%1_000_000, StatusID: 2, Cents: 2_400_000, Category: "CRM", Email: "  Ana.E2E@Exemplo.com.br ", At: month}
	bad := deal{ID: good.ID + 1, StatusID: 2, Cents: -120_000, Category: "CRM", Email: "joão.e2e@exemplo.com.br", At: month.Add(time.Minute)}
	wamid := fmt.Sprintf("wamid.E2E%d", run)
	forged := wamid + "F"

	mc, err := h.metricsClient()
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	before, err := mc.mrr(ctx)
	if err != nil {
		t.Fatalf("mrr before any traffic: %v", err)
	}
	e := &e2e{h: h, good: good, bad: bad, wamid: wamid, forged: forged, month: month, before: before, mc: mc}
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"forged webhooks are refused and produce nothing", e.forgedRefused},
		{"signed webhooks are accepted", e.post},
		{"raw records in Kafka", e.raw},
		{"Parquet files and Iceberg table in the lake", e.lake},
		{"staging records", e.staging},
		{"curated records", e.curated},
		{"rejected record in quarantine with its reasons", e.quarantine},
		{"mrr over gRPC grows by the deal", e.metric},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("stopped after %q failed", s.name)
		}
	}
	t.Run("CDC row to its raw topic", func(t *testing.T) {
		if cdc == nil {
			t.Skip(cdcSkip)
		}
		cdc.check(t, h)
	})
}

// e2e is the state TestEndToEnd's steps share.
type e2e struct {
	h           *harness
	mc          *metricsClient
	good, bad   deal
	wamid       string
	forged      string
	month       time.Time
	before      mrr
	waEventID   string
	dealEventID string
}

func (e *e2e) forgedRefused(t *testing.T) {
	ctx := context.Background()
	body := whatsAppText(e.forged, "mensagem forjada", time.Now())
	a, err := e.h.postWhatsApp(ctx, body, "not-the-app-secret")
	if err != nil {
		t.Fatal(err)
	}
	if a.status != http.StatusUnauthorized {
		t.Errorf("WhatsApp webhook with a wrong X-Hub-Signature-256: %d %s, want 401", a.status, a.body)
	}
	a, err = e.h.postPloomes(ctx, e.good.body(), "not-the-validation-key")
	if err != nil {
		t.Fatal(err)
	}
	if a.status != http.StatusUnauthorized {
		t.Errorf("Ploomes webhook with a wrong X-Ploomes-Validation-Key: %d %s, want 401", a.status, a.body)
	}
	topics := []string{"raw.whatsapp.messages", "raw.whatsapp.statuses", "raw.whatsapp.events", "raw.ploomes.deals", "dlq.intake"}
	n, err := e.h.endOffsets(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics {
		if n[topic] != 0 {
			t.Errorf("%s has %d records after only forged webhooks, want none", topic, n[topic])
		}
	}
}

func (e *e2e) post(t *testing.T) {
	ctx := context.Background()
	secret := e.h.env["RIACHO_WHATSAPP_APP_SECRET"]
	key := e.h.env["RIACHO_PLOOMES_VALIDATION_KEY"]
	a, err := e.h.postWhatsApp(ctx, whatsAppText(e.wamid, "Olá, quero saber o preço do plano anual", time.Now()), secret)
	accepted(t, "WhatsApp notification "+e.wamid, a, err)
	a, err = e.h.postPloomes(ctx, e.good.body(), key)
	accepted(t, fmt.Sprintf("Ploomes deal %d", e.good.ID), a, err)
	a, err = e.h.postPloomes(ctx, e.bad.body(), key)
	accepted(t, fmt.Sprintf("Ploomes deal %d (rejected by the suites)", e.bad.ID), a, err)
}

func (e *e2e) raw(t *testing.T) {
	msgs := e.h.mustAwait(t, "raw.whatsapp.messages", "WhatsApp message "+e.wamid, func(s seen) bool {
		return fieldText(s.value, "message_id") == e.wamid
	})
	for _, s := range msgs {
		if fieldText(s.value, "message_id") == e.forged {
			t.Errorf("the forged message %s reached raw.whatsapp.messages at offset %d", e.forged, s.rec.Offset)
		}
	}
	last := msgs[len(msgs)-1]
	e.waEventID = fieldText(last.value, "event_id")
	if string(last.rec.Key) != e.waEventID || last.header("riacho-event-id") != e.waEventID {
		t.Errorf("WhatsApp record key %q, riacho-event-id %q, want both to be the event id %q", last.rec.Key, last.header("riacho-event-id"), e.waEventID)
	}
	if p := fieldText(last.value, "payload"); !strings.Contains(p, e.wamid) {
		t.Errorf("WhatsApp record's payload does not keep the notification: %.200s", p)
	}
	id := strconv.FormatInt(e.good.ID, 10)
	deals := e.h.mustAwait(t, "raw.ploomes.deals", "Ploomes deal "+id, func(s seen) bool {
		return fieldText(s.value, "resource_id") == id
	})
	d := deals[len(deals)-1]
	e.dealEventID = fieldText(d.value, "event_id")
	if got := fieldText(d.value, "payload"); got != string(e.good.body()) {
		t.Errorf("deal %s: payload %q, want the notification as posted %q", id, got, e.good.body())
	}
	if at, ok := field(d.value, "event_time").(time.Time); !ok || !at.Equal(e.good.At) {
		t.Errorf("deal %s: event_time %v, want LastUpdateDate %s", id, field(d.value, "event_time"), e.good.At)
	}
	t.Logf("raw: %s event %s; deal %s event %s", e.wamid, e.waEventID, id, e.dealEventID)
}

func (e *e2e) lake(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ source, table, id string }{
		{"whatsapp", "raw_whatsapp.messages", e.waEventID},
		{"ploomes", "raw_ploomes.deals", e.dealEventID},
	} {
		var files []string
		deadline := time.Now().Add(stepTimeout)
		for {
			var err error
			files, err = e.h.lakeFind(c.source, c.id)
			if err != nil {
				t.Fatalf("read the lake's Parquet files of %s: %v", c.source, err)
			}
			if len(files) > 0 {
				break
			}
			if time.Now().After(deadline) {
				all, _ := e.h.lakeFiles(c.source)
				t.Fatalf("no Parquet file under %s/raw/%s holds event %s after %s; files: %v", e.h.opts.LakeDir(), c.source, c.id, stepTimeout, all)
			}
			time.Sleep(200 * time.Millisecond)
		}
		layout := "raw/" + c.source + "/year=" + e.good.At.Format("2006") + "/month=" + e.good.At.Format("01") + "/day=" + e.good.At.Format("02") + "/"
		if c.source == "ploomes" && !strings.HasPrefix(files[0], layout) {
			t.Errorf("event %s is in %s, want it under %s (the seed's layout, partitioned by event time)", c.id, files[0], layout)
		}
		rows, n, err := e.h.icebergRows(ctx, c.table, 100000)
		if err != nil {
			t.Fatalf("Iceberg scan of %s through the sink's read verb: %v", c.table, err)
		}
		if n == 0 || !strings.Contains(rows, c.id) {
			t.Errorf("Iceberg scan of %s (%d rows) lacks event %s:\n%.2000s", c.table, n, c.id, rows)
		}
		t.Logf("lake: event %s in %v and in the Iceberg table %s", c.id, files, c.table)
	}
}

// staged checks one model's record of the good deal on topic (staging.* or
// curated.*), read_committed.
func (e *e2e) staged(t *testing.T, zone string) {
	id := strconv.FormatInt(e.good.ID, 10)
	subs := e.h.mustAwait(t, zone+".fct_subscriptions", "subscription "+id, func(s seen) bool {
		return fieldText(s.value, "subscription_id") == id
	})
	v := subs[len(subs)-1].value
	if c, ok := cents(field(v, "monthly_value")); !ok || c != e.good.monthlyCents() {
		t.Errorf("%s.fct_subscriptions %s: monthly_value %v, want %s", zone, id, field(v, "monthly_value"), money(e.good.monthlyCents()))
	}
	if seg := fieldText(v, "customer_segment"); seg != e.good.segment() {
		t.Errorf("%s.fct_subscriptions %s: customer_segment %q, want %q", zone, id, seg, e.good.segment())
	}
	if field(v, "is_active") != true {
		t.Errorf("%s.fct_subscriptions %s: is_active %v, want true (StatusId 2)", zone, id, field(v, "is_active"))
	}
	leads := e.h.mustAwait(t, zone+".stg_ploomes_leads", "lead "+id, func(s seen) bool {
		return fieldText(s.value, "lead_id") == id
	})
	l := leads[len(leads)-1].value
	if got, want := fieldText(l, "email"), strings.ToLower(strings.TrimSpace(e.good.Email)); got != want {
		t.Errorf("%s.stg_ploomes_leads %s: email %q, want %q (trimmed, lower case)", zone, id, got, want)
	}
	if got := fieldText(l, "status_ptbr"); got != "Convertido" {
		t.Errorf("%s.stg_ploomes_leads %s: status_ptbr %q, want Convertido", zone, id, got)
	}
}

func (e *e2e) staging(t *testing.T) { e.staged(t, "staging") }

func (e *e2e) curated(t *testing.T) { e.staged(t, "curated") }

func (e *e2e) quarantine(t *testing.T) {
	id := strconv.FormatInt(e.bad.ID, 10)
	for _, c := range []struct{ topic, key, expectation, column string }{
		{"quarantine.fct_subscriptions", "subscription_id", "expect_column_values_to_be_between", "monthly_value"},
		{"quarantine.stg_ploomes_leads", "lead_id", "expect_column_values_to_match_regex", "email"},
	} {
		recs := e.h.mustAwait(t, c.topic, "rejected deal "+id, func(s seen) bool { return fieldText(s.value, c.key) == id })
		q := recs[len(recs)-1]
		failed := q.header("riacho-quality-failed")
		if !strings.Contains(failed, c.expectation) || !strings.Contains(failed, `"column":"`+c.column+`"`) {
			t.Errorf("%s %s: riacho-quality-failed %q, want %s on %s", c.topic, id, failed, c.expectation, c.column)
		}
		t.Logf("%s: %s=%s rejected: %s", c.topic, c.key, id, failed)
	}
}

func (e *e2e) metric(t *testing.T) {
	ctx := context.Background()
	target := cell(e.month, e.good.segment())
	deadline := time.Now().Add(stepTimeout)
	var after mrr
	for {
		var err error
		after, err = e.mc.mrr(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after[target] != e.before[target] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mrr %s stayed %s for %s after deal %d was curated", target, money(after[target]), stepTimeout, e.good.ID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if d := after[target] - e.before[target]; d != e.good.monthlyCents() {
		t.Errorf("mrr %s changed by %s, want %s (deal %d: R$ %s a year)", target, money(d), money(e.good.monthlyCents()), e.good.ID, money(e.good.Cents))
	}
	for k, v := range after {
		if k != target && v != e.before[k] {
			t.Errorf("mrr %s changed from %s to %s; only %s should (the rejected deal %d must not count)", k, money(e.before[k]), money(v), target, e.bad.ID)
		}
	}
	t.Logf("mrr %s: %s before, %s after", target, money(e.before[target]), money(after[target]))
}

// cents reads an Avro decimal (*big.Rat) as centavos.
func cents(v any) (int64, bool) {
	r, ok := v.(*big.Rat)
	if !ok {
		return 0, false
	}
	c := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !c.IsInt() || !c.Num().IsInt64() {
		return 0, false
	}
	return c.Num().Int64(), true
}
