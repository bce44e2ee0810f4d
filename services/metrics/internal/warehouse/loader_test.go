package warehouse

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func order(id string, amount *big.Rat, updated time.Time) map[string]any {
	return map[string]any{
		"order_id": id, "amount": avro.Nullable("bytes.decimal", amount), "qty": avro.Union("int", int32(3)),
		"big": int64(1) << 40, "ratio": avro.Union("double", 0.25), "paid": avro.Union("boolean", true),
		"orderDate":   avro.Union("int.date", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)),
		"updated_at":  avro.Union("long.timestamp-micros", updated),
		"customer_id": avro.Union("string", "c1"),
	}
}

func wide(id any, amount string, qty int64) map[string]any {
	a, err := avro.ParseDecimal(amount, 3)
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"order_id": id, "amount": avro.Union("bytes.decimal", a), "qty": avro.Union("long", qty), "big": int64(1),
		"ratio": nil, "paid": nil, "orderDate": nil, "updated_at": nil, "customer_id": nil,
	}
}

func event(id int64, cents int64) map[string]any {
	return map[string]any{"event_id": id, "amount": big.NewRat(cents, 100)}
}

// TestLoadFactsConversionsRejects loads upserts, tombstones, appends,
// every column type (null unions and plain fields) and records that do not
// fit, and checks the tables, the rejects and the freshness exactly.
func TestLoadFactsConversionsRejects(t *testing.T) {
	dialects(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, 1)
		const o, ev = "curated.fct_orders", "curated.fct_orders-value"
		h.produce(
			h.rec(ev, o, "o1", order("o1", rat("10.50"), t0.Add(123456*time.Microsecond)), t0),
			h.rec(ev, o, "o2", map[string]any{"order_id": "o2", "amount": nil, "qty": nil, "big": int64(-7), "ratio": nil,
				"paid": nil, "orderDate": nil, "updated_at": nil, "customer_id": nil}, t0),
			h.rec(ev, o, "o1", order("o1", rat("12.34"), t0.Add(time.Hour)), t0),
			h.rec(ev, o, "o3", order("o3", rat("1"), t0), t0),
			h.rec(ev, o, "o3", nil, t0),
			h.rec(ev, o, "o4", order("o4", rat("9999999999999999.99"), t0.Add(-time.Hour)), t0),
			h.rec("wide-value", o, "r1", wide(avro.Union("string", "r1"), "1.000", 1<<40), t0),
			h.rec("wide-value", o, "r2", wide(avro.Union("string", "r2"), "1.005", 1), t0),
			h.rec("wide-value", o, "r3", wide(nil, "1.000", 1), t0),
			h.rec("wide-value", o, "r4", wide(avro.Union("string", "r4"), "10000000000000000.000", 1), t0),
			&kgo.Record{Topic: o, Key: []byte("r5"), Value: []byte("not avro at all")},
			h.rec("curated.fct_events-value", "curated.fct_events", "", event(1, 150), t0),
			h.rec("curated.fct_events-value", "curated.fct_events", "", event(2, -5), t0),
			h.rec("curated.fct_events-value", "curated.fct_events", "", event(2, -5), t0),
			h.rec("curated.fct_events-value", "curated.fct_events", "e", nil, t0),
		)
		r := h.startLoader(st, testLoaderConfig())
		waitApplied(t, r.l, 15)

		equalLines(t, "fct_orders", tableDump(t, st, h.schema.Table("fct_orders")), []string{
			"o1|12.34|3|1099511627776|0.25|true|2025-03-01T00:00:00Z|2025-03-01T11:00:00Z|c1",
			"o2|NULL|NULL|-7|NULL|NULL|NULL|NULL|NULL",
			"o4|9999999999999999.99|3|1099511627776|0.25|true|2025-03-01T00:00:00Z|2025-03-01T09:00:00Z|c1",
		})
		equalLines(t, "fct_events", tableDump(t, st, h.schema.Table("fct_events")), []string{"1|1.50", "2|-0.05", "2|-0.05"})
		rejects := dump(t, st, RejectsTable, nil, "offset", "table_name", "reason")
		want := []string{
			`6|fct_orders|column qty (field qty): long 1099511627776 does not fit integer: out of range`,
			`7|fct_orders|column amount (field amount): decimal 1.005 does not fit numeric(18,2): more than 2 fractional digits`,
			`8|fct_orders|key column order_id (field order_id) is null`,
			`9|fct_orders|column amount (field amount): decimal 10000000000000000 does not fit numeric(18,2): more than 16 integer digits`,
			`10|fct_orders|avro decode: `,
			`3|fct_events|tombstone on an append-only table (it has no key to delete)`,
		}
		if len(rejects) != len(want) {
			t.Fatalf("rejects:\n%s", strings.Join(rejects, "\n"))
		}
		for _, w := range want {
			if !containsPrefix(rejects, w) {
				t.Errorf("no reject starting %q in:\n%s", w, strings.Join(rejects, "\n"))
			}
		}
		fr, gen, err := ReadFreshness(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		if gen < 1 {
			t.Errorf("generation %d after a load", gen)
		}
		if f := fr["fct_orders"]; f.Rows != 6 || !f.MaxEventTime.Equal(t0.Add(time.Hour)) || f.LoadedAt.IsZero() {
			t.Errorf("fct_orders freshness %+v: want 6 rows, newest event %s", f, t0.Add(time.Hour))
		}
		if f := fr["fct_events"]; f.Rows != 3 || !f.MaxEventTime.Equal(t0) {
			t.Errorf("fct_events freshness %+v: want 3 rows, newest event (record time) %s", f, t0)
		}
		s := r.l.Status()
		if s.Rejects["fct_orders"] != 5 || s.Rejects["fct_events"] != 1 || s.Rows["fct_orders"] != 6 || s.Generation != gen {
			t.Errorf("status %+v", s)
		}
		if raw := dump(t, st, RejectsTable, nil, "offset", "value"); !containsPrefix(raw, "10|[110 111 116 32 97 118 114 111") {
			t.Errorf("rejected values %v: want the record's bytes kept", raw)
		}
	})
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func plan(id, price, tier string) map[string]any {
	return map[string]any{"plan_id": id, "price": rat(price), "tier": avro.Nullable("string", nilIfBlank(tier))}
}

func nilIfBlank(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestDimensions checks type 1 (overwrite, delete) and type 2 history
// (versions opened and closed by record time, unchanged rows adding
// nothing, tombstones closing, same-instant rewrites) across two batches.
func TestDimensions(t *testing.T) {
	dialects(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, 2)
		const c, cv, p, pv = "curated.dim_customers", "curated.dim_customers-value", "curated.dim_plans", "curated.dim_plans-value"
		cust := func(id, seg string) map[string]any {
			return map[string]any{"customer_id": id, "segment": avro.Nullable("string", nilIfBlank(seg))}
		}
		ts := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		h.produce(
			h.rec(cv, c, "c1", cust("c1", "SMB"), t0),
			h.rec(cv, c, "c2", cust("c2", "Mid-Market"), t0),
			h.rec(cv, c, "c1", cust("c1", "Enterprise"), t0),
			h.rec(cv, c, "c2", nil, t0),
			h.rec(cv, c, "c3", cust("c3", ""), t0),
			h.rec(pv, p, "p1", plan("p1", "10.00", "basic"), ts(1)),
			h.rec(pv, p, "p1", plan("p1", "10.00", "basic"), ts(2)),
			h.rec(pv, p, "p1", plan("p1", "12.00", "basic"), ts(3)),
			h.rec(pv, p, "p2", plan("p2", "5.00", ""), ts(4)),
			h.rec(pv, p, "p2", nil, ts(5)),
			h.rec(pv, p, "p2", plan("p2", "6.00", ""), ts(6)),
		)
		r := h.startLoader(st, testLoaderConfig())
		waitApplied(t, r.l, 11)
		h.produce(
			h.rec(pv, p, "p1", plan("p1", "12.00", "pro"), ts(7)),
			h.rec(pv, p, "p1", plan("p1", "12.00", "pro"), ts(8)),
		)
		waitApplied(t, r.l, 13)
		h.produce(h.rec(pv, p, "p1", plan("p1", "13.00", "pro"), ts(7)))
		waitApplied(t, r.l, 14)
		equalLines(t, "dim_customers", tableDump(t, st, h.schema.Table("dim_customers")), []string{"c1|Enterprise", "c3|NULL"})
		at := func(min int) string { return ts(min).Format(time.RFC3339) }
		equalLines(t, "dim_plans", tableDump(t, st, h.schema.Table("dim_plans")), []string{
			"p1|10.00|basic|" + at(1) + "|" + at(3) + "|false",
			"p1|12.00|basic|" + at(3) + "|" + at(7) + "|false",
			"p1|13.00|pro|" + at(7) + "|NULL|true",
			"p2|5.00|NULL|" + at(4) + "|" + at(5) + "|false",
			"p2|6.00|NULL|" + at(6) + "|NULL|true",
		})
	})
}

// TestRestartResumesFromWarehouseOffsets stops a loader, rewinds the
// consumer group's Kafka offsets to 0, and checks that the next loader
// resumes from the warehouse's offsets: no record loaded twice or lost.
func TestRestartResumesFromWarehouseOffsets(t *testing.T) {
	dialects(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, 2)
		produceEvents := func(from, to int64) {
			var recs []*kgo.Record
			for id := from; id <= to; id++ {
				recs = append(recs, h.rec("curated.fct_events-value", "curated.fct_events", strconv.FormatInt(id, 10), event(id, id), t0))
			}
			h.produce(recs...)
		}
		produceEvents(1, 100)
		cfg := testLoaderConfig()
		r := h.startLoader(st, cfg)
		waitApplied(t, r.l, 100)
		r.halt()

		cl, err := kgo.NewClient(kgo.SeedBrokers(h.kc.Addrs()...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		var rewind kadm.Offsets
		for p := int32(0); p < 2; p++ {
			rewind.Add(kadm.Offset{Topic: "curated.fct_events", Partition: p, At: 0, LeaderEpoch: -1})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if resp, err := kadm.NewClient(cl).CommitOffsets(ctx, "riacho-metrics-loader", rewind); err != nil || resp.Error() != nil {
			t.Fatalf("rewind group offsets: %v %v", err, resp.Error())
		}

		produceEvents(101, 150)
		r2 := h.startLoader(st, cfg)
		waitApplied(t, r2.l, 150)
		got := dump(t, st, "fct_events", nil, "event_id")
		if len(got) != 150 {
			t.Fatalf("%d rows after restart, want 150", len(got))
		}
		for i, l := range got {
			if l != strconv.Itoa(i+1) {
				t.Fatalf("row %d is event %s, want %d", i, l, i+1)
			}
		}
		offs := dump(t, st, OffsetsTable, nil, "partition", "next_offset")
		var sum int64
		for _, l := range offs {
			n, _ := strconv.ParseInt(l[strings.IndexByte(l, '|')+1:], 10, 64)
			sum += n
		}
		if sum != 150 {
			t.Errorf("riacho_offsets %v sum to %d, want 150", offs, sum)
		}
	})
}

// TestDialectsAgree loads one stream into PostgreSQL and DuckDB and
// compares every table.
func TestDialectsAgree(t *testing.T) {
	h := newHarness(t, 2)
	var recs []*kgo.Record
	for i := range 300 {
		id := fmt.Sprintf("o%03d", i%120)
		recs = append(recs, h.rec("curated.fct_orders-value", "curated.fct_orders", id,
			order(id, big.NewRat(int64(i*37), 100), t0.Add(time.Duration(i)*time.Minute)), t0.Add(time.Duration(i)*time.Second)))
		if i%7 == 0 {
			recs = append(recs, h.rec("", "curated.fct_orders", fmt.Sprintf("o%03d", i%50), nil, t0))
		}
		pid := fmt.Sprintf("p%d", i%9)
		recs = append(recs, h.rec("curated.dim_plans-value", "curated.dim_plans", pid,
			plan(pid, strconv.Itoa(i%4)+".50", []string{"a", "b", ""}[i%3]), t0.Add(time.Duration(i)*time.Second)))
		recs = append(recs, h.rec("curated.fct_events-value", "curated.fct_events", "", event(int64(i), int64(i*3)), t0))
	}
	h.produce(recs...)
	pg, duck := openPG(t), openDuck(t)
	cfg := testLoaderConfig()
	cfg.MaxBatchRecords = 97
	cfg.Consumer = "pg"
	rp := h.startLoader(pg, cfg)
	cfg.Consumer = "duck"
	rd := h.startLoader(duck, cfg)
	waitApplied(t, rp.l, int64(len(recs)))
	waitApplied(t, rd.l, int64(len(recs)))
	for _, tab := range h.schema.Tables {
		a, b := tableDump(t, pg, tab), tableDump(t, duck, tab)
		if tab.Name != "dim_customers" && len(a) == 0 {
			t.Errorf("%s is empty", tab.Name)
		}
		equalLines(t, tab.Name+" (postgres vs duckdb)", a, b)
	}
}

// TestWarehouseOutageRetries makes the table unwritable, checks that the
// loader reports the failure and keeps every record, then loads them all
// once the table is back.
func TestWarehouseOutageRetries(t *testing.T) {
	h := newHarness(t, 1)
	st := openPG(t)
	if err := Migrate(context.Background(), st, h.schema); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PG.Exec(context.Background(), `ALTER TABLE fct_events RENAME TO fct_events_away`); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for id := int64(1); id <= 20; id++ {
		recs = append(recs, h.rec("curated.fct_events-value", "curated.fct_events", "", event(id, 1), t0))
	}
	h.produce(recs...)
	l, err := NewLoader(testLoaderConfig(), st, h.schema, h.kc.Config(), h.serde, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(60 * time.Second)
	for l.Status().LastError == "" {
		if time.Now().After(deadline) {
			t.Fatal("the loader reported no error while its table was missing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(l.Status().LastError, "fct_events") {
		t.Errorf("last error %q does not name the table", l.Status().LastError)
	}
	if _, err := st.PG.Exec(context.Background(), `ALTER TABLE fct_events_away RENAME TO fct_events`); err != nil {
		t.Fatal(err)
	}
	waitApplied(t, l, 20)
	if got := dump(t, st, "fct_events", nil, "event_id"); len(got) != 20 {
		t.Errorf("%d rows after the outage, want 20", len(got))
	}
	if s := l.Status(); s.LastError != "" || s.Rejects["fct_events"] != 0 {
		t.Errorf("status after recovery %+v", s)
	}
}

// TestOnCommitAndNotify checks the commit callback and PostgreSQL's notification.
func TestOnCommitAndNotify(t *testing.T) {
	h := newHarness(t, 1)
	st := openPG(t)
	conn, err := st.PG.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(context.Background(), "LISTEN riacho_warehouse"); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(context.Background(), st, h.schema); err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(testLoaderConfig(), st, h.schema, h.kc.Config(), h.serde, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	l.OnCommit(func(gen int64, tables []string) { got <- fmt.Sprint(gen, tables) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	h.produce(h.rec("curated.fct_events-value", "curated.fct_events", "", event(1, 1), t0))
	select {
	case s := <-got:
		if s != "1 [fct_events]" {
			t.Errorf("OnCommit got %s, want 1 [fct_events]", s)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no OnCommit call")
	}
	nctx, ncancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ncancel()
	n, err := conn.Conn().WaitForNotification(nctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Payload != "1" {
		t.Errorf("notification payload %q, want 1", n.Payload)
	}
}
