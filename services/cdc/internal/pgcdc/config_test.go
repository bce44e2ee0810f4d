package pgcdc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

func TestDefaultsValidate(t *testing.T) {
	c := Config{Source: "erp-main", URL: "postgres://u@127.0.0.1/db"}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Slot != "riacho_erp_main" || c.Publication != "riacho_erp_main" || c.Snapshot != SnapshotInitial ||
		c.ChunkSize != 10000 || c.Heartbeat != 10*time.Second || c.StatusInterval != time.Second ||
		c.OnSlotLoss != SlotLossFail || len(c.Include) != 1 || c.Include[0] != "public.*" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestValidateNamesEveryField(t *testing.T) {
	c := Config{Source: "bad name", URL: "postgres://%zz", Slot: "Bad-Slot", Publication: strings.Repeat("p", 70),
		Include: []string{"nodot", "public.[x"}, Exclude: []string{"a"}, Snapshot: "always", ChunkSize: -1,
		Heartbeat: time.Millisecond, StatusInterval: -1, OnSlotLoss: "ignore"}
	err := c.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, field := range []string{"source", "url", "slot", "publication", "include[0]", "include[1]", "exclude[0]",
		"snapshot", "chunk_size", "heartbeat", "status_interval", "on_slot_loss"} {
		if !strings.Contains(err.Error(), "postgresql "+field+":") {
			t.Errorf("no error names %s in:\n%v", field, err)
		}
	}
	if strings.Contains((&Config{URL: "postgres://u:secret@h/db?sslmode=bogus"}).Validate().Error(), "secret") {
		t.Error("the password appears in an error")
	}
}

func TestMatcher(t *testing.T) {
	m := matcher{include: []string{"public.*", "sales.order*"}, exclude: []string{"public.tmp_*"}}
	for _, tc := range []struct {
		schema, table string
		want          bool
	}{
		{"public", "leads", true}, {"public", "tmp_x", false}, {"sales", "orders", true},
		{"sales", "items", false}, {"other", "leads", false},
	} {
		if got := m.match(tc.schema, tc.table); got != tc.want {
			t.Errorf("match(%s.%s) = %v", tc.schema, tc.table, got)
		}
	}
}

func TestAckTrackerConfirmsInOrderOnly(t *testing.T) {
	a := newAckTracker(100)
	t1 := a.open(time.Now())
	a.add(t1)
	t2 := a.open(time.Now())
	a.add(t2)
	a.close(t1, 200)
	a.close(t2, 300)
	a.done(t2, nil) // the later transaction acked first
	if c, empty, _, _ := a.state(); c != 100 || empty {
		t.Fatalf("confirmed %s empty %v after the later ack, want 0/64 pending", c, empty)
	}
	a.done(t1, nil)
	if c, empty, _, _ := a.state(); c != 300 || !empty {
		t.Fatalf("confirmed %s empty %v, want 0/12C and nothing pending", c, empty)
	}
	if !a.advanceIdle(400) {
		t.Fatal("advanceIdle with nothing pending: want it to move")
	}
	t3 := a.open(time.Now())
	a.add(t3)
	a.close(t3, 500)
	if a.advanceIdle(600) {
		t.Fatal("advanceIdle with a pending transaction: want no move")
	}
	boom := errors.New("boom")
	a.done(t3, boom)
	if c, _, _, err := a.state(); c != 400 || !errors.Is(err, boom) {
		t.Fatalf("after a failed produce: confirmed %s err %v, want 0/190 and the error", c, err)
	}
	acked := false
	u := a.open(time.Now())
	u.onAcked = func() { acked = true }
	a.close(u, 0)
	if acked {
		t.Fatal("a unit after a failure must never be reported acked")
	}
}

func TestAckTrackerChunkUnitDoesNotMovePosition(t *testing.T) {
	a := newAckTracker(pglogrepl.LSN(10))
	u := a.open(time.Now())
	a.add(u)
	acked := make(chan struct{})
	u.onAcked = func() { close(acked) }
	a.close(u, 0)
	a.done(u, nil)
	<-acked
	if c, _, _, _ := a.state(); c != 10 {
		t.Fatalf("confirmed %s, want unchanged", c)
	}
}

func TestParseSnapshot(t *testing.T) {
	xip, err := parseSnapshot("10:20:12,15,4294967298")
	if err != nil {
		t.Fatal(err)
	}
	if len(xip) != 3 || !xip[12] || !xip[15] || !xip[2] {
		t.Fatalf("xip = %v (xid8 4294967298 is 32-bit xid 2)", xip)
	}
	if xip, err := parseSnapshot("10:10:"); err != nil || len(xip) != 0 {
		t.Fatalf("empty list: %v %v", xip, err)
	}
	if _, err := parseSnapshot("nonsense"); err == nil {
		t.Fatal("want an error")
	}
}

func TestXidRingForgetsOldest(t *testing.T) {
	r := newXidRing(3)
	for i := uint32(1); i <= 5; i++ {
		r.add(i+100, uint64(i))
	}
	if _, ok := r.get(101); ok {
		t.Error("xid 101 still remembered")
	}
	if s, ok := r.get(105); !ok || s != 5 {
		t.Errorf("xid 105: %d %v", s, ok)
	}
}

func TestParseNeverPanics(t *testing.T) {
	for _, b := range [][]byte{{'I'}, {'U', 0, 0, 0, 1, 'N'}, {'R', 0}, {'B'}, {'Y', 1}, {}} {
		if _, err := parse(b, false); err == nil {
			t.Errorf("parse(%q) = nil error", b)
		}
	}
}

func TestSelectSQLQuotesAndResumes(t *testing.T) {
	d := &tableDesc{cols: []column{{name: "Id", format: "integer"}, {name: "k2", format: "text"}, {name: "v", format: "text"}}, key: []int{0, 1}}
	got := d.selectSQL(discovered{schema: "s", name: "T x"}, true, 10)
	want := `SELECT "Id", "k2", "v" FROM ONLY "s"."T x" WHERE ("Id", "k2") > ($1::integer, $2::text) ORDER BY "Id", "k2" LIMIT 10`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
