package pgcdc

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEveryOpWithTombstoneAndSource(t *testing.T) {
	h := newHarness(t, `CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)`)
	c, r := h.start(h.config())
	waitStreaming(t, c)
	h.exec(
		`INSERT INTO items VALUES (1, 'pen', 3), (2, 'ink', 5)`,
		`UPDATE items SET qty = 4 WHERE id = 1`,
		`DELETE FROM items WHERE id = 2`,
		`UPDATE items SET id = 10 WHERE id = 1`,
		`TRUNCATE items`,
	)
	h.caughtUp(c)
	got := h.readAll("items")
	if ops := opsOf(got); ops != "ccud~d~ct" {
		t.Fatalf("ops %q, want ccud~d~ct (insert x2, update, delete+tombstone, key change as delete+tombstone+create, truncate)", ops)
	}
	if a := got[0].After(); a["id"] != int64(1) || a["name"] != "pen" || a["qty"] != int32(3) {
		t.Errorf("insert after = %v", a)
	}
	if b := got[2].Before(); b != nil {
		t.Errorf("update before = %v, want null (REPLICA IDENTITY DEFAULT, key unchanged)", b)
	}
	if a := got[2].After(); a["qty"] != int32(4) {
		t.Errorf("update after = %v", a)
	}
	if b := got[3].Before(); b["id"] != int64(2) {
		t.Errorf("delete before = %v, want the key", b)
	}
	if got[4].Value != nil || got[4].Key["id"] != int64(2) {
		t.Errorf("tombstone = key %v value %v", got[4].Key, got[4].Value)
	}
	if b := got[5].Before(); b["id"] != int64(1) {
		t.Errorf("key change: delete before = %v, want id 1", b)
	}
	if a := got[7].After(); a["id"] != int64(10) || a["qty"] != int32(4) {
		t.Errorf("key change: create after = %v, want id 10", a)
	}
	if got[8].Key != nil {
		t.Errorf("truncate key = %v, want none", got[8].Key)
	}
	src := got[0].Source()
	if src["connector"] != "postgresql" || src["name"] != "shop" || src["db"] != h.name ||
		src["schema"] != "public" || src["table"] != "items" || src["snapshot"] != "false" {
		t.Errorf("source = %v", src)
	}
	lsn, _ := src["lsn"].(int64)
	tx, _ := src["txId"].(int64)
	ts, _ := src["ts_ms"].(int64)
	if lsn <= 0 || tx <= 0 || time.Since(time.UnixMilli(ts)) > time.Minute {
		t.Errorf("source lsn %v txId %v ts_ms %v: want set, commit time recent", src["lsn"], src["txId"], src["ts_ms"])
	}
	// The two inserts share a transaction; the update is another one.
	if got[0].Source()["txId"] != got[1].Source()["txId"] || got[0].Source()["txId"] == got[2].Source()["txId"] {
		t.Errorf("txIds %v %v %v", got[0].Source()["txId"], got[1].Source()["txId"], got[2].Source()["txId"])
	}
	if l1, l2 := got[0].Source()["lsn"].(int64), got[1].Source()["lsn"].(int64); l1 >= l2 {
		t.Errorf("change lsns %d, %d: want increasing within a transaction", l1, l2)
	}
	want := `
# HELP riacho_cdc_pg_events_total Change events produced from PostgreSQL, by table and op (r counts snapshot rows).
# TYPE riacho_cdc_pg_events_total counter
riacho_cdc_pg_events_total{op="c",source="shop",table="public.items"} 3
riacho_cdc_pg_events_total{op="d",source="shop",table="public.items"} 2
riacho_cdc_pg_events_total{op="r",source="shop",table="public.items"} 0
riacho_cdc_pg_events_total{op="t",source="shop",table="public.items"} 1
riacho_cdc_pg_events_total{op="u",source="shop",table="public.items"} 1
`
	if err := testutil.GatherAndCompare(r.reg, strings.NewReader(want), "riacho_cdc_pg_events_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(r.reg, "riacho_cdc_pg_lag_bytes", "riacho_cdc_pg_lag_seconds", "riacho_cdc_pg_confirmed_lsn"); err != nil || n != 3 {
		t.Errorf("lag and position gauges: %d, %v", n, err)
	}
	st := c.Status()
	if len(st.Tables) != 1 || st.Tables[0].Events["c"] != 3 || st.Tables[0].Events["t"] != 1 {
		t.Errorf("status tables = %+v", st.Tables)
	}
}
