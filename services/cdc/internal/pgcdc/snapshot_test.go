package pgcdc

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/services/cdc/internal/cdctest"
)

// writer changes table acct (id int PRIMARY KEY, n int, tag bigint) until
// stopped: updates, inserts and deletes, each setting a unique tag.
type writer struct {
	stop   chan struct{}
	done   chan struct{}
	err    error
	writes atomic.Int64
}

func acctTable(rows int) []string {
	return []string{
		`CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL, tag bigint)`,
		`INSERT INTO acct SELECT i, 0, NULL FROM generate_series(1, ` + strconv.Itoa(rows) + `) i`,
	}
}

func startWriter(t testing.TB, dbURL string, maxID int) *writer {
	t.Helper()
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		defer cancel()
		defer conn.Close(context.Background())
		rng := rand.New(rand.NewPCG(1, 2))
		next := maxID + 1
		var tag int64
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			tag++
			var err error
			switch r := rng.IntN(100); {
			case r < 55:
				_, err = conn.Exec(ctx, `UPDATE acct SET n = n + 1, tag = $1 WHERE id = $2`, tag, 1+rng.IntN(next-1))
			case r < 80:
				_, err = conn.Exec(ctx, `INSERT INTO acct VALUES ($1, 0, $2)`, next, tag)
				next++
			case r < 90:
				_, err = conn.Exec(ctx, `DELETE FROM acct WHERE id = $1`, 1+rng.IntN(next-1))
			default:
				// A transaction of several changes.
				b := &pgx.Batch{}
				b.Queue(`UPDATE acct SET n = n + 1, tag = $1 WHERE id = $2`, tag, 1+rng.IntN(next-1))
				tag++
				b.Queue(`UPDATE acct SET n = n + 1, tag = $1 WHERE id = $2`, tag, 1+rng.IntN(next-1))
				tag++
				b.Queue(`INSERT INTO acct VALUES ($1, 0, $2)`, next, tag)
				next++
				err = conn.SendBatch(ctx, b).Close()
			}
			if err != nil {
				w.err = err
				return
			}
			w.writes.Add(1)
		}
	}()
	return w
}

func (w *writer) halt(t testing.TB) {
	t.Helper()
	close(w.stop)
	<-w.done
	if w.err != nil {
		t.Fatalf("writer: %v", w.err)
	}
}

type acctRow struct {
	n   int32
	tag any
}

// finalState replays records (last one per key wins; a delete or a
// tombstone removes the key).
func finalState(t testing.TB, recs []cdctest.Change) map[int32]acctRow {
	t.Helper()
	out := map[int32]acctRow{}
	for _, r := range recs {
		id, ok := r.Key["id"].(int32)
		if !ok {
			t.Fatalf("record without an int key: %v", r.Key)
		}
		if r.Value == nil || r.Op() == "d" {
			delete(out, id)
			continue
		}
		a := r.After()
		out[id] = acctRow{n: a["n"].(int32), tag: a["tag"]}
	}
	return out
}

// checkFinal compares the state replayed from Kafka with the table.
func checkFinal(t testing.TB, h *harness, recs []cdctest.Change) {
	t.Helper()
	got := finalState(t, recs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := h.conn.Query(ctx, `SELECT id, n, tag FROM acct`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]acctRow{}
	for rows.Next() {
		var id, n int32
		var tag *int64
		if err := rows.Scan(&id, &n, &tag); err != nil {
			t.Fatal(err)
		}
		r := acctRow{n: n}
		if tag != nil {
			r.tag = *tag
		}
		want[id] = r
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	bad := 0
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			if bad++; bad <= 5 {
				t.Errorf("id %d: Kafka says %+v (present %v), table says %+v", id, g, ok, w)
			}
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			if bad++; bad <= 5 {
				t.Errorf("id %d in Kafka, not in the table", id)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d keys differ (table %d rows, Kafka %d keys)", bad, len(want), len(got))
	}
}

func TestSnapshotHandOverWithConcurrentWritesNoGapNoOverlap(t *testing.T) {
	h := newHarness(t, acctTable(4000)...)
	w := startWriter(t, h.db, 4000)
	time.Sleep(100 * time.Millisecond)
	c, _ := h.start(h.config(func(c *Config) { c.ChunkSize = 150 }))
	waitStreaming(t, c)
	before := w.writes.Load()
	waitFor(t, 30*time.Second, "writes while streaming", func() bool { return w.writes.Load() > before+200 })
	w.halt(t)
	h.caughtUp(c)
	recs := h.readAll("acct")
	checkFinal(t, h, recs)

	// No overlap: every change is in the snapshot or in the stream, once.
	tags := map[int64]int{}
	first := map[int32]string{}
	snap := 0
	for _, r := range recs {
		id := r.Key["id"].(int32)
		if _, ok := first[id]; !ok {
			first[id] = r.Op()
		}
		if r.Op() == "r" {
			snap++
			if first[id] != "r" {
				t.Fatalf("id %d: snapshot row after a streamed change", id)
			}
		}
		if r.Op() == "c" && first[id] == "r" {
			t.Fatalf("id %d: inserted row both in the snapshot and in the stream", id)
		}
		if a := r.After(); a != nil {
			if tag, ok := a["tag"].(int64); ok {
				if tags[tag]++; tags[tag] > 1 {
					t.Fatalf("change with tag %d seen twice (snapshot and stream overlap)", tag)
				}
			}
		}
	}
	if snap < 4000 || len(recs)-snap < 200 {
		t.Fatalf("%d snapshot rows and %d streamed records: the test did not overlap writes with the snapshot", snap, len(recs)-snap)
	}
	markers := map[string]int{}
	for _, r := range recs {
		if r.Op() == "r" {
			markers[r.Source()["snapshot"].(string)]++
		}
	}
	if markers["first"] != 1 || markers["last"] != 1 || markers["true"] != snap-2 {
		t.Errorf("snapshot markers %v, want one first, one last, the rest true", markers)
	}
	t.Logf("%d snapshot rows, %d streamed records, %d writes", snap, len(recs)-snap, w.writes.Load())
}

func TestInterruptedSnapshotResumesWithoutLosingRows(t *testing.T) {
	h := newHarness(t, acctTable(3000)...)
	w := startWriter(t, h.db, 3000)
	cfg := h.config(func(c *Config) { c.ChunkSize = 100 })
	c1, err := New(cfg, h.em, h.st, h.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	c1.afterChunk = func(table string, n int) {
		if n == 5 {
			once.Do(cancel) // the process "dies" after five chunks
		}
	}
	r1 := &run{c: c1, cancel: cancel, done: make(chan error, 1)}
	go func() { r1.done <- c1.Run(ctx) }()
	if err := h.stopRunWhenDone(r1); err != nil {
		t.Fatal(err)
	}
	if s := tableStatus(c1, "public.acct").Snapshot; s.State != snapPending || s.Rows != 500 {
		t.Fatalf("after the interruption: snapshot %+v, want pending with 500 rows", s)
	}
	time.Sleep(200 * time.Millisecond) // more writes while nothing captures

	c2, _ := h.start(cfg)
	waitFor(t, 60*time.Second, "the resumed snapshot to finish", func() bool {
		return tableStatus(c2, "public.acct").Snapshot.State == snapDone
	})
	w.halt(t)
	h.caughtUp(c2)
	recs := h.readAll("acct")
	checkFinal(t, h, recs)
	incremental := 0
	for _, r := range recs {
		if r.Op() == "r" && r.Source()["snapshot"] == "incremental" {
			incremental++
		}
	}
	if incremental < 2000 {
		t.Fatalf("%d incremental snapshot rows, want the rest of the table (about 2500)", incremental)
	}
	t.Logf("%d records, %d incremental snapshot rows, %d writes", len(recs), incremental, w.writes.Load())
}

// stopRunWhenDone waits for a run that ends by itself.
func (h *harness) stopRunWhenDone(r *run) error {
	select {
	case err := <-r.done:
		return err
	case <-time.After(60 * time.Second):
		r.cancel()
		return <-r.done
	}
}

func TestOnDemandSnapshotWhileStreaming(t *testing.T) {
	h := newHarness(t, append(acctTable(1500),
		`CREATE TABLE nokey (v int)`, `INSERT INTO nokey SELECT i FROM generate_series(1, 50) i`)...)
	c, _ := h.start(h.config(func(c *Config) { c.Snapshot = SnapshotNever; c.ChunkSize = 200 }))
	waitStreaming(t, c)
	w := startWriter(t, h.db, 1500)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Snapshot(ctx, "public.acct"); err != nil {
		t.Fatal(err)
	}
	if err := c.Snapshot(ctx, "nokey"); err != nil {
		t.Fatal(err)
	}
	if err := c.Snapshot(ctx, "other.table"); err == nil {
		t.Error("Snapshot of a table not captured: want an error")
	}
	waitFor(t, 60*time.Second, "the snapshots to finish", func() bool {
		st := c.Status()
		done := 0
		for _, ts := range st.Tables {
			if ts.Snapshot.State == snapDone {
				done++
			}
		}
		return done == 2
	})
	w.halt(t)
	h.caughtUp(c)
	recs := h.readAll("acct")
	checkFinal(t, h, recs)
	if n := len(h.readAll("nokey")); n != 50 {
		t.Errorf("nokey: %d records, want its 50 rows", n)
	}
}

func TestHeartbeatMovesTheSlotOfAQuietDatabase(t *testing.T) {
	h := newHarness(t, `CREATE TABLE quiet (id int PRIMARY KEY)`)
	c, _ := h.start(h.config(func(c *Config) { c.Heartbeat = 100 * time.Millisecond }))
	waitStreaming(t, c)
	busy := pgtest.NewDatabase(t)
	pgtest.Exec(t, busy, `CREATE TABLE noise (id int, pad text)`,
		`INSERT INTO noise SELECT i, repeat('x', 200) FROM generate_series(1, 20000) i`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var target string
	if err := h.conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&target); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the quiet database's slot to pass "+target, func() bool {
		var confirmed string
		err := h.conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, c.Config().Slot).Scan(&confirmed)
		return err == nil && lsnAtLeast(confirmed, target)
	})
	if st := c.Status(); st.Heartbeats == 0 {
		t.Errorf("no heartbeat read back: %+v", st)
	}
}

func tableStatus(c *Capture, id string) TableStatus {
	for _, ts := range c.Status().Tables {
		if ts.Table == id {
			return ts
		}
	}
	return TableStatus{}
}

func TestTableCreatedLaterIsAddedAndSnapshotted(t *testing.T) {
	h := newHarness(t, `CREATE TABLE first (id int PRIMARY KEY)`)
	c, _ := h.start(h.config(func(c *Config) { c.Heartbeat = 100 * time.Millisecond }))
	waitStreaming(t, c)
	h.exec(`CREATE TABLE later (id int PRIMARY KEY, v text)`,
		`INSERT INTO later SELECT i, 'before' FROM generate_series(1, 30) i`)
	waitFor(t, 30*time.Second, "the new table's snapshot", func() bool {
		return tableStatus(c, "public.later").Snapshot.State == snapDone
	})
	h.exec(`UPDATE later SET v = 'after' WHERE id <= 10`, `INSERT INTO later VALUES (31, 'after')`)
	h.caughtUp(c)
	state := map[int32]string{}
	for _, r := range h.readAll("later") {
		state[r.Key["id"].(int32)] = r.After()["v"].(string)
	}
	if len(state) != 31 || state[1] != "after" || state[20] != "before" || state[31] != "after" {
		t.Fatalf("later: %d keys, %v", len(state), state)
	}
}
