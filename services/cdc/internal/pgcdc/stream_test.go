package pgcdc

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Transactions larger than logical_decoding_work_mem reach the capture in
// pieces before they commit (pgoutput streaming); aborted ones and aborted
// subtransactions must leave no trace.
func TestStreamedTransactionsCommitAndAbort(t *testing.T) {
	h := newHarness(t, `CREATE TABLE big (id int PRIMARY KEY, pad text)`)
	u, err := url.Parse(h.db)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c logical_decoding_work_mem=64kB")
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	c, _ := h.start(h.config(func(c *Config) { c.URL = u.String() }))
	waitStreaming(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tx, err := h.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run := func(sql string) {
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	run(`INSERT INTO big SELECT i, repeat('x', 100) FROM generate_series(1, 2000) i`)
	run(`SAVEPOINT s1`)
	run(`INSERT INTO big SELECT i, repeat('y', 100) FROM generate_series(2001, 4000) i`)
	run(`ROLLBACK TO SAVEPOINT s1`)
	run(`INSERT INTO big SELECT i, repeat('z', 100) FROM generate_series(4001, 5000) i`)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err = h.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run(`INSERT INTO big SELECT i, repeat('a', 100) FROM generate_series(6001, 9000) i`)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	h.exec(`INSERT INTO big VALUES (10000, 'after')`)
	h.caughtUp(c)
	got := h.readAll("big")
	if len(got) != 3001 {
		t.Fatalf("%d records, want 3001 (2000 + 1000 committed, 1 after)", len(got))
	}
	seen := map[int32]bool{}
	tx0 := got[0].Source()["txId"]
	for i, ch := range got {
		id, _ := ch.After()["id"].(int32)
		if (id > 2000 && id <= 4000) || id > 6000 && id < 10000 {
			t.Fatalf("record %d: id %d was rolled back", i, id)
		}
		if seen[id] {
			t.Fatalf("id %d twice", id)
		}
		seen[id] = true
		if i < 3000 && ch.Source()["txId"] != tx0 {
			t.Fatalf("record %d txId %v, want the top-level %v", i, ch.Source()["txId"], tx0)
		}
	}
	var streamed int64
	if err := h.conn.QueryRow(ctx, `SELECT coalesce(sum(stream_txns), 0) FROM pg_stat_replication_slots WHERE slot_name = $1`,
		c.Config().Slot).Scan(&streamed); err != nil {
		t.Fatal(err)
	}
	if streamed == 0 {
		t.Errorf("the server streamed no transaction: the test did not exercise streaming")
	}
}

func TestPauseStopsReadingAndResumeGoesOn(t *testing.T) {
	h := newHarness(t, `CREATE TABLE p (id int PRIMARY KEY)`)
	c, _ := h.start(h.config())
	waitStreaming(t, c)
	c.Pause()
	waitFor(t, 5*time.Second, "paused", func() bool { return c.Status().State == StatePaused })
	h.exec(`INSERT INTO p VALUES (1)`)
	time.Sleep(700 * time.Millisecond)
	if n := c.Status().Tables[0].Events["c"]; n != 0 {
		t.Fatalf("%d inserts captured while paused", n)
	}
	c.Resume()
	h.caughtUp(c)
	if got := h.readAll("p"); opsOf(got) != "c" {
		t.Fatalf("ops %q after resume, want c", opsOf(got))
	}
}
