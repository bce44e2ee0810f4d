package pgcdc

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// BenchmarkPgbenchToKafka measures, in one run on one database:
//
//   - live: pgbench at full speed (4 clients) with the capture streaming
//     into Kafka: changes/s captured and the replication lag (seconds and
//     bytes) sampled every 100ms;
//   - drain: the capture paused while pgbench writes a backlog, then
//     resumed: changes/s end to end (decode, Avro encode, produce, acks);
//   - raw: a second slot created when the backlog starts, read over the
//     same WAL as the drain with plain pglogrepl decoding and nothing else:
//     changes/s, the upper limit.
//
// Run it alone: go test -run '^$' -bench PgbenchToKafka -benchtime 1x ./internal/pgcdc/
func BenchmarkPgbenchToKafka(b *testing.B) {
	seconds, backlog := "10", "20"
	h := newHarness(b)
	if out, err := pgbench(b, "-i", "-q", "-s", "4", h.name).CombinedOutput(); err != nil {
		b.Fatalf("pgbench -i: %v\n%s", err, out)
	}
	cfg := h.config(func(c *Config) {
		c.Include = []string{"public.pgbench_*"}
		c.Snapshot = SnapshotNever
		c.Heartbeat = time.Second
	})
	c, err := New(cfg, h.em, h.st, h.log, nil)
	if err != nil {
		b.Fatal(err)
	}
	h.run(c)
	waitStreaming(b, c)
	events := func() int64 {
		var n int64
		for _, t := range c.Status().Tables {
			for _, v := range t.Events {
				n += v
			}
		}
		return n
	}

	// Live: the capture follows pgbench.
	b.ResetTimer()
	n0, t0 := events(), time.Now()
	bench := pgbench(b, "-T", seconds, "-c", "4", "-j", "2", "-n", h.name)
	var out bytes.Buffer
	bench.Stdout, bench.Stderr = &out, &out
	if err := bench.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- bench.Wait() }()
	var lagMax, lagSum float64
	var lagBytesMax int64
	samples := 0
sample:
	for {
		select {
		case err := <-done:
			if err != nil {
				b.Fatalf("pgbench: %v\n%s", err, out.String())
			}
			break sample
		case <-time.After(100 * time.Millisecond):
			st := c.Status()
			lagMax = max(lagMax, st.LagSeconds)
			lagBytesMax = max(lagBytesMax, st.LagBytes)
			lagSum += st.LagSeconds
			samples++
		}
	}
	h.caughtUp(c)
	live := float64(events()-n0) / time.Since(t0).Seconds()
	tps := pgbenchTPS(out.String())

	// Drain: a backlog written while the capture is paused.
	c.Pause()
	waitFor(b, 10*time.Second, "paused", func() bool { return c.Status().State == StatePaused })
	// The raw slot starts here: it reads exactly the WAL the drain reads.
	rawSlot := cfg.Slot + "_raw"
	h.exec(`SELECT pg_create_logical_replication_slot('` + rawSlot + `', 'pgoutput')`)
	if out, err := pgbench(b, "-T", backlog, "-c", "4", "-j", "2", "-n", h.name).CombinedOutput(); err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	var endLSN string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := h.conn.QueryRow(ctx, `SELECT pg_logical_emit_message(true, 'bench.end', 'x')::text`).Scan(&endLSN); err != nil {
		b.Fatal(err)
	}
	n1, t1, cpu1 := events(), time.Now(), cpuTime()
	c.Resume()
	h.caughtUp(c)
	drained := events() - n1
	drainTook := time.Since(t1)
	drain := float64(drained) / drainTook.Seconds()
	drainCPU := (cpuTime() - cpu1).Seconds() / drainTook.Seconds()

	// Raw: the same WAL through plain pglogrepl decoding.
	changes, took := rawDecode(b, h.db, rawSlot, c.Config().Publication)
	raw := float64(changes) / took.Seconds()
	b.StopTimer()

	b.ReportMetric(live, "live_changes/s")
	b.ReportMetric(lagMax, "live_max_lag_s")
	b.ReportMetric(lagSum/float64(max(samples, 1)), "live_mean_lag_s")
	b.ReportMetric(float64(lagBytesMax), "live_max_lag_bytes")
	b.ReportMetric(tps, "pgbench_tps")
	b.ReportMetric(drain, "drain_changes/s")
	b.ReportMetric(drainCPU, "drain_cpu_cores")
	b.ReportMetric(raw, "raw_changes/s")
	b.Logf("live: %.0f changes/s (pgbench %.0f tps), lag max %.3fs mean %.3fs, max %d bytes; drain: %d changes at %.0f/s using %.2f cores (broker included); raw pglogrepl: %d changes at %.0f/s (drain = %.0f%% of raw)",
		live, tps, lagMax, lagSum/float64(max(samples, 1)), lagBytesMax, drained, drain, drainCPU, changes, raw, 100*drain/raw)
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

func pgbenchTPS(out string) float64 {
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	return f
}

// rawDecode reads slot from its start to the bench.end message, parsing
// every message with pglogrepl and counting row changes.
func rawDecode(b *testing.B, dbURL, slot, publication string) (int, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg, err := pgconn.ParseConfig(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.RuntimeParams["replication"] = "database"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	err = pglogrepl.StartReplication(ctx, conn, slot, 0, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '2'", "publication_names '" + publication + "'",
			"messages 'true'", "streaming 'on'"},
	})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	last := start
	changes, inStream := 0, false
	var pos pglogrepl.LSN
	for {
		// Background: no per-message context watching, the fastest read.
		msg, err := conn.ReceiveMessage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok {
			continue
		}
		switch cd.Data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(cd.Data[1:])
			if err == nil && pkm.ReplyRequested {
				_ = pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: max(pos, 1)})
			}
		case pglogrepl.XLogDataByteID:
			xld, err := pglogrepl.ParseXLogData(cd.Data[1:])
			if err != nil {
				b.Fatal(err)
			}
			pos = xld.WALStart
			m, err := pglogrepl.ParseV2(xld.WALData, inStream)
			if err != nil {
				b.Fatal(err)
			}
			switch m := m.(type) {
			case *pglogrepl.InsertMessageV2, *pglogrepl.UpdateMessageV2, *pglogrepl.DeleteMessageV2:
				changes++
			case *pglogrepl.StreamStartMessageV2:
				inStream = true
			case *pglogrepl.StreamStopMessageV2:
				inStream = false
			case *pglogrepl.LogicalDecodingMessageV2:
				if strings.HasPrefix(m.Prefix, "bench.end") {
					return changes, time.Since(start)
				}
			}
			if time.Since(last) > time.Second {
				last = time.Now()
				_ = pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: pos})
			}
		}
	}
}

// cpuTime is the CPU time this process used so far (the in-process broker included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
