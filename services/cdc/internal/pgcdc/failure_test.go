package pgcdc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/emit"
)

func TestFailingTableGoesToDeadLetterWhileOthersFlow(t *testing.T) {
	h := newHarness(t,
		`CREATE TABLE good (id int PRIMARY KEY, v text)`,
		`CREATE TABLE bad (id int PRIMARY KEY, at timestamptz, n int)`,
	)
	c, _ := h.start(h.config())
	waitStreaming(t, c)
	h.exec(
		`INSERT INTO bad VALUES (1, 'infinity', 1)`, // no Avro timestamp holds infinity
		`INSERT INTO good VALUES (1, 'a')`,
		`INSERT INTO bad VALUES (2, now(), 2)`,
		// An incompatible change: int to text cannot be read by the old schema's readers.
		`ALTER TABLE bad ALTER COLUMN n TYPE text`,
		`INSERT INTO bad VALUES (3, now(), 'three')`,
		`INSERT INTO good VALUES (2, 'b')`,
	)
	h.caughtUp(c)
	if ops := opsOf(h.readAll("good")); ops != "cc" {
		t.Fatalf("good table ops %q, want cc", ops)
	}
	badRecs := h.readAll("bad")
	if ops := opsOf(badRecs); ops != "c" || badRecs[0].After()["id"] != int32(2) {
		t.Fatalf("bad table ops %q (%v), want only the row 2 that could be written", ops, badRecs)
	}
	dlq := h.env.Kafka.Consume(t, emit.DefaultDLQTopic, 2, 10*time.Second)
	var reasons []string
	for _, r := range dlq {
		var d emit.DeadLetter
		if err := json.Unmarshal(r.Value, &d); err != nil {
			t.Fatal(err)
		}
		if d.Table != "public.bad" {
			t.Errorf("dead letter of %s", d.Table)
		}
		after, _ := d.Payload.(map[string]any)["after"].(map[string]any)
		reasons = append(reasons, d.Reason+" | "+after["id"].(string))
	}
	if !strings.Contains(reasons[0], "infinity") || !strings.HasSuffix(reasons[0], "| 1") ||
		!strings.Contains(reasons[1], "ncompatible") || !strings.HasSuffix(reasons[1], "| 3") {
		t.Errorf("dead-letter reasons %q", reasons)
	}
	st := c.Status()
	for _, ts := range st.Tables {
		switch ts.Table {
		case "public.bad":
			if !ts.Failed || ts.DeadLetters != 2 {
				t.Errorf("bad: %+v, want failed with 2 dead letters", ts)
			}
		case "public.good":
			if ts.Failed {
				t.Errorf("good failed: %s", ts.Error)
			}
		}
	}
	// The slot moved past the failed changes.
	var confirmed string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, c.Config().Slot).Scan(&confirmed); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the slot to confirm the last change", func() bool {
		_ = h.conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, c.Config().Slot).Scan(&confirmed)
		return lsnAtLeast(confirmed, st.ConfirmedLSN)
	})
}

func TestSlotDroppedByHandIsReportedNotRecreated(t *testing.T) {
	h := newHarness(t, `CREATE TABLE s (id int PRIMARY KEY)`, `INSERT INTO s VALUES (1)`)
	cfg := h.config()
	c, r := h.start(cfg)
	waitStreaming(t, c)
	if err := h.stopRun(r); err != nil {
		t.Fatal(err)
	}
	dropSlots(t, h.name)
	h.exec(`INSERT INTO s VALUES (2)`) // a change nobody can read any more

	c2, r2 := h.start(cfg)
	var err error
	select {
	case err = <-r2.done:
		r2.once.Do(func() {})
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the slot was lost")
	}
	if !errors.Is(err, ErrSlotLost) {
		t.Fatalf("Run = %v, want ErrSlotLost", err)
	}
	if st := c2.Status(); st.State != StateFailed || !strings.Contains(st.Error, "slot lost") {
		t.Errorf("status %s %q, want failed with the slot loss", st.State, st.Error)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n int
	if err := h.conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot).Scan(&n); err != nil || n != 0 {
		t.Fatalf("slots named %s: %d (%v), want none: never recreated silently", cfg.Slot, n, err)
	}

	// Asked to, the capture creates the slot again and snapshots again.
	cfg.OnSlotLoss = SlotLossResnapshot
	c3, _ := h.start(cfg)
	waitStreaming(t, c3)
	h.caughtUp(c3)
	got := h.readAll("s")
	if ops := opsOf(got); ops != "rrr" {
		t.Fatalf("ops %q, want rrr (the first snapshot's row, then the new snapshot's two rows)", ops)
	}
}

func TestReconnectsAfterTheServerEndsTheStream(t *testing.T) {
	h := newHarness(t, `CREATE TABLE r (id int PRIMARY KEY)`)
	c, _ := h.start(h.config())
	waitStreaming(t, c)
	h.exec(`INSERT INTO r VALUES (1)`)
	h.caughtUp(c)
	// The server has the position too (not only sent).
	waitFor(t, 10*time.Second, "the server to record the confirmed position", func() bool {
		var confirmed string
		err := h.conn.QueryRow(context.Background(), `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`,
			c.Config().Slot).Scan(&confirmed)
		return err == nil && lsnAtLeast(confirmed, c.Status().ConfirmedLSN)
	})
	h.exec(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '` + c.Config().Slot + `'`)
	waitFor(t, 10*time.Second, "the capture to notice", func() bool { return c.Status().State != StateStreaming })
	h.exec(`INSERT INTO r VALUES (2)`)
	waitStreaming(t, c)
	h.caughtUp(c)
	got := h.readAll("r")
	if ops := opsOf(got); ops != "cc" || got[1].After()["id"] != int32(2) {
		t.Fatalf("ops %q, want cc (nothing lost, nothing repeated: the first insert was confirmed)", ops)
	}
}
