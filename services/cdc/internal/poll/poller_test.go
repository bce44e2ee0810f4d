package poll_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/cdc/internal/cdctest"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/poll"
	"github.com/riacho/riacho/services/cdc/internal/poll/ploomes"
	"github.com/riacho/riacho/services/cdc/internal/poll/polltest"
)

const dealsTopic = "raw.crm.api.deals"

// base is a Ploomes-side time: rows are written with the -03:00 offset.
var base = time.Date(2026, 4, 30, 9, 0, 0, 0, time.FixedZone("-03:00", -3*3600))

func deal(id int, at time.Time, title string) map[string]any {
	return map[string]any{
		"Id": id, "Title": title, "Amount": fmt.Sprintf("%d.%02d", id*100, id%100), "StatusId": 1,
		"LastUpdateDate":  at.Format("2006-01-02T15:04:05.999-07:00"),
		"OtherProperties": []any{map[string]any{"FieldKey": "deal_x", "StringValue": title}},
	}
}

type setup struct {
	env   *cdctest.Env
	api   *polltest.Ploomes
	reg   *prometheus.Registry
	fetch *ploomes.Fetcher
}

func newSetup(t *testing.T, entities ...poll.EntityConfig) *setup {
	t.Helper()
	s := &setup{env: cdctest.New(t), api: polltest.NewPloomes(t), reg: prometheus.NewRegistry()}
	if len(entities) == 0 {
		entities = []poll.EntityConfig{{Name: "Deals", Fields: []poll.FieldConfig{
			{Name: "Title", Type: "string"}, {Name: "Amount", Type: "decimal(12,2)"}, {Name: "StatusId", Type: "long"},
		}}}
	}
	cfg := poll.PloomesConfig{URL: s.api.URL(), Entities: entities, PageSize: 4, RatePerMinute: 60000, Overlap: time.Minute}
	var err error
	s.fetch, err = ploomes.New(cfg, ploomes.Options{UserKey: s.api.UserKey, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *setup) poller(t *testing.T, em poll.Emitter, st poll.Store) *poll.Poller {
	t.Helper()
	p, err := poll.New("crm", s.fetch, em, st, poll.Options{
		Interval: time.Hour, PageSize: 4, Overlap: time.Minute,
		RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		Registerer: s.reg, Logger: testlog.New(t, slog.LevelWarn),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// byID groups the records of a topic by their Id key.
func byID(t *testing.T, changes []cdctest.Change) map[int64][]cdctest.Change {
	t.Helper()
	out := map[int64][]cdctest.Change{}
	for _, c := range changes {
		id, ok := c.Key["Id"].(int64)
		if !ok {
			t.Fatalf("record key %v has no long Id", c.Key)
		}
		out[id] = append(out[id], c)
	}
	return out
}

func ops(changes []cdctest.Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.Op())
	}
	return b.String()
}

func TestPollerBackfillOverlapUpdatesAndRestart(t *testing.T) {
	s := newSetup(t)
	// 22 deals; groups of five share one LastUpdateDate, so pages of four
	// split rows of one timestamp.
	for i := 1; i <= 22; i++ {
		s.api.Put("Deals", deal(i, base.Add(time.Duration((i-1)/5)*time.Second), fmt.Sprintf("deal %d", i)))
	}
	em := s.env.Emitter(emit.Options{})
	st := s.env.State("")
	p := s.poller(t, em, st)
	stop := polltest.Start(t, p)
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "backfill", func(s poll.EntityStatus) bool { return !s.Backfilling })

	got := s.env.ReadAll(dealsTopic)
	if len(got) != 22 {
		t.Fatalf("backfill: %d records, want 22", len(got))
	}
	ids := byID(t, got)
	for i := int64(1); i <= 22; i++ {
		cs := ids[i]
		if len(cs) != 1 || cs[0].Op() != "r" {
			t.Fatalf("deal %d: ops %q, want one r", i, ops(cs))
		}
	}
	after := ids[7][0].After()
	if after["Title"] != "deal 7" || after["StatusId"] != int64(1) {
		t.Fatalf("deal 7 after = %v", after)
	}
	if amt, ok := after["Amount"].(*big.Rat); !ok || amt.Cmp(big.NewRat(70007, 100)) != 0 {
		t.Fatalf("deal 7 Amount = %#v, want exactly 700.07", after["Amount"])
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(after["_raw"].(string)), &raw); err != nil || raw["OtherProperties"] == nil {
		t.Fatalf("_raw does not hold the source object: %v (%v)", after["_raw"], err)
	}
	src := ids[7][0].Source()
	if src["connector"] != "ploomes" || src["name"] != "crm" || src["table"] != "deals" || src["schema"] != "api" || src["snapshot"] != "true" {
		t.Fatalf("source block = %v", src)
	}
	if ts := ids[7][0].Source()["ts_ms"].(int64); ts != base.Add(time.Second).UnixMilli() {
		t.Fatalf("source.ts_ms = %d, want the row's LastUpdateDate %d", ts, base.Add(time.Second).UnixMilli())
	}

	// A poll with nothing new re-reads the overlap window and emits nothing.
	polltest.Pass(t, p, "Deals")
	if n := len(s.env.ReadAll(dealsTopic)); n != 22 {
		t.Fatalf("after an idle poll: %d records, want 22", n)
	}
	if d := sum(t, s.reg, "riacho_cdc_poll_duplicates_total"); d == 0 {
		t.Fatal("the overlap re-read counted no duplicates")
	}

	// Changes: two rows changed later, two new rows, and one row committed
	// late with a change time inside the overlap window.
	last := base.Add(4 * time.Second)
	s.api.Put("Deals", deal(3, last.Add(10*time.Second), "deal 3 won"))
	s.api.Put("Deals", deal(21, last.Add(10*time.Second), "deal 21 lost"))
	s.api.Put("Deals", deal(23, last.Add(11*time.Second), "deal 23"))
	s.api.Put("Deals", deal(24, last.Add(11*time.Second), "deal 24"))
	s.api.Put("Deals", deal(25, last.Add(-30*time.Second), "deal 25 late"))
	polltest.Pass(t, p, "Deals")
	ids = byID(t, s.env.ReadAll(dealsTopic))
	for id, want := range map[int64]string{3: "ru", 21: "ru", 23: "u", 24: "u", 25: "u", 1: "r", 22: "r"} {
		if got := ops(ids[id]); got != want {
			t.Fatalf("deal %d: ops %q, want %q", id, got, want)
		}
	}
	if title := ids[3][1].After()["Title"]; title != "deal 3 won" {
		t.Fatalf("deal 3 update carries %v", title)
	}
	stop()

	// A new poller on a store re-read from the state topic continues where
	// the first stopped: nothing is emitted again.
	p2 := s.poller(t, em, s.env.State(""))
	polltest.Start(t, p2)
	st2 := polltest.Pass(t, p2, "Deals")
	if st2.Backfilling {
		t.Fatal("restarted poller forgot the backfill was done")
	}
	if n := len(s.env.ReadAll(dealsTopic)); n != 27 {
		t.Fatalf("after restart: %d records, want 27 (nothing re-emitted)", n)
	}
	s.api.Put("Deals", deal(5, last.Add(20*time.Second), "deal 5 again"))
	polltest.Pass(t, p2, "Deals")
	ids = byID(t, s.env.ReadAll(dealsTopic))
	if got := ops(ids[5]); got != "ru" {
		t.Fatalf("deal 5 after restart: ops %q, want ru", got)
	}
	var cur poll.Cursor
	if ok, err := s.env.State("").Get(poll.StateKey("crm", "Deals"), &cur); err != nil || !ok {
		t.Fatalf("cursor not stored: %v %v", ok, err)
	}
	if !cur.TS.Equal(last.Add(20*time.Second)) || cur.Rows != 28 || !cur.Backfilled {
		t.Fatalf("stored cursor %+v", cur)
	}
}

// sum adds up every series of a counter.
func sum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func TestFailingEntityDoesNotStopOthers(t *testing.T) {
	s := newSetup(t, poll.EntityConfig{Name: "Deals"}, poll.EntityConfig{Name: "Contacts"})
	for i := 1; i <= 6; i++ {
		s.api.Put("Deals", deal(i, base.Add(time.Duration(i)*time.Second), "d"))
	}
	// Contacts does not exist on the server: every poll of it fails.
	p := s.poller(t, s.env.Emitter(emit.Options{}), s.env.State(""))
	polltest.Start(t, p)
	polltest.WaitFor(t, p, "Contacts", 30*time.Second, "repeated failures", func(s poll.EntityStatus) bool {
		return s.ConsecutiveErrors >= 3 && strings.Contains(s.LastError, "404")
	})
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "backfill", func(s poll.EntityStatus) bool { return !s.Backfilling && s.Rows == 6 })
	if n := len(s.env.ReadAll(dealsTopic)); n != 6 {
		t.Fatalf("deals: %d records, want 6", n)
	}
	s.api.Put("Deals", deal(7, base.Add(time.Hour), "d"))
	polltest.Pass(t, p, "Deals")
	if n := len(s.env.ReadAll(dealsTopic)); n != 7 {
		t.Fatalf("deals: %d records, want 7", n)
	}
	if e := sum(t, s.reg, "riacho_cdc_poll_errors_total"); e < 3 {
		t.Fatalf("errors_total = %v, want >= 3", e)
	}
}

// flakyEmitter fails ProduceSync while fail > 0, as when Kafka is down.
type flakyEmitter struct {
	*emit.Emitter
	fail atomic.Int32
}

func (f *flakyEmitter) ProduceSync(ctx context.Context, recs []*kgo.Record) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("kafka unavailable")
	}
	return f.Emitter.ProduceSync(ctx, recs)
}

func TestCursorAdvancesOnlyAfterAcks(t *testing.T) {
	s := newSetup(t)
	for i := 1; i <= 10; i++ {
		s.api.Put("Deals", deal(i, base.Add(time.Duration(i)*time.Second), "d"))
	}
	em := &flakyEmitter{Emitter: s.env.Emitter(emit.Options{})}
	em.fail.Store(1 << 20)
	st := s.env.State("")
	p := s.poller(t, em, st)
	polltest.Start(t, p)
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "failed produce", func(s poll.EntityStatus) bool {
		return s.ConsecutiveErrors >= 2 && strings.Contains(s.LastError, "kafka unavailable")
	})
	var cur poll.Cursor
	if ok, _ := st.Get(poll.StateKey("crm", "Deals"), &cur); ok {
		t.Fatalf("cursor stored although Kafka acknowledged nothing: %+v", cur)
	}
	em.fail.Store(0)
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "backfill", func(s poll.EntityStatus) bool { return !s.Backfilling })
	ids := byID(t, s.env.ReadAll(dealsTopic))
	if len(ids) != 10 {
		t.Fatalf("%d deals arrived, want 10", len(ids))
	}
	for id, cs := range ids {
		if len(cs) != 1 {
			t.Fatalf("deal %d arrived %d times", id, len(cs))
		}
	}
}

func TestNoProgressIsReported(t *testing.T) {
	s := newSetup(t)
	// Nine rows with one timestamp and a server that ignores $skip: the
	// same four rows come back forever.
	for i := 1; i <= 9; i++ {
		s.api.Put("Deals", deal(i, base, "d"))
	}
	s.api.IgnoreSkip(true)
	p := s.poller(t, s.env.Emitter(emit.Options{}), s.env.State(""))
	polltest.Start(t, p)
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "no-progress error", func(s poll.EntityStatus) bool {
		return strings.Contains(s.LastError, poll.ErrNoProgress.Error())
	})
}

func TestUnreadableRowsGoToDeadLetters(t *testing.T) {
	s := newSetup(t)
	s.api.Put("Deals", deal(1, base, "ok"))
	bad := deal(2, base, "bad date")
	bad["LastUpdateDate"] = "yesterday"
	s.api.Put("Deals", bad)
	odd := deal(3, base.Add(time.Second), "odd amount")
	odd["Amount"] = "12,50"
	s.api.Put("Deals", odd)
	p := s.poller(t, s.env.Emitter(emit.Options{}), s.env.State(""))
	polltest.Start(t, p)
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "backfill", func(s poll.EntityStatus) bool { return !s.Backfilling })
	ids := byID(t, s.env.ReadAll(dealsTopic))
	if len(ids) != 2 || len(ids[1]) != 1 || len(ids[3]) != 1 {
		t.Fatalf("deals emitted: %v, want 1 and 3", keys(ids))
	}
	if a := ids[3][0].After(); a["Amount"] != nil || !strings.Contains(a["_raw"].(string), "12,50") {
		t.Fatalf("deal 3: Amount %v (want null) and _raw %v (want the original)", a["Amount"], a["_raw"])
	}
	if n := sum(t, s.reg, "riacho_cdc_poll_field_problems_total"); n != 1 {
		t.Fatalf("field problems = %v, want 1", n)
	}
	dlq := readRaw(t, s.env, emit.DefaultDLQTopic)
	if len(dlq) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dlq))
	}
	var dl emit.DeadLetter
	if err := json.Unmarshal(dlq[0].Value, &dl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dl.Reason, "change time") || !strings.Contains(fmt.Sprint(dl.Payload), "yesterday") {
		t.Fatalf("dead letter %+v", dl)
	}
	// The overlap re-reads the bad row: it is not dead-lettered twice.
	polltest.Pass(t, p, "Deals")
	if n := len(readRaw(t, s.env, emit.DefaultDLQTopic)); n != 1 {
		t.Fatalf("%d dead letters after a second poll, want 1", n)
	}
}

func keys(m map[int64][]cdctest.Change) []int64 {
	var out []int64
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// readRaw reads every record of topic present now, undecoded.
func readRaw(t *testing.T, env *cdctest.Env, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.Kafka.Addrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

func TestPauseResumeSnapshotDetails(t *testing.T) {
	s := newSetup(t)
	for i := 1; i <= 5; i++ {
		s.api.Put("Deals", deal(i, base.Add(time.Duration(i)*time.Second), "d"))
	}
	p := s.poller(t, s.env.Emitter(emit.Options{}), s.env.State(""))
	polltest.Start(t, p)
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "backfill", func(s poll.EntityStatus) bool { return !s.Backfilling })
	d := p.Details()
	if d["Deals.rows"] != "5" || d["Deals.topic"] != dealsTopic || d["Deals.backfilling"] != "false" || d["paused"] != "false" {
		t.Fatalf("details %v", d)
	}

	// Paused: a change is not polled, even when asked.
	p.Pause()
	before := polltest.Status(t, p, "Deals").LastPoll
	s.api.Put("Deals", deal(2, base.Add(time.Hour), "changed"))
	p.PollNow("Deals")
	time.Sleep(200 * time.Millisecond)
	if st := polltest.Status(t, p, "Deals"); !st.LastPoll.Equal(before) || len(s.env.ReadAll(dealsTopic)) != 5 {
		t.Fatalf("polled while paused: %+v", st)
	}
	if p.Details()["paused"] != "true" {
		t.Fatal("details do not say paused")
	}
	p.Resume()
	polltest.Pass(t, p, "Deals")
	got := s.env.ReadAll(dealsTopic)
	if len(got) != 6 || got[5].Op() != "u" {
		t.Fatalf("after resume: %d records, last op %q; want 6, u", len(got), got[len(got)-1].Op())
	}

	// A snapshot re-reads everything as r, then updates go on as u.
	if err := p.Snapshot(context.Background(), "nope"); !errors.Is(err, poll.ErrUnknownEntity) {
		t.Fatalf("Snapshot(nope) = %v", err)
	}
	if err := p.Snapshot(context.Background(), "api.deals"); err != nil {
		t.Fatal(err)
	}
	polltest.WaitFor(t, p, "Deals", 30*time.Second, "re-backfill", func(st poll.EntityStatus) bool {
		return !st.Backfilling && st.Rows == 5
	})
	got = s.env.ReadAll(dealsTopic)
	if len(got) != 11 || ops(got[6:]) != "rrrrr" {
		t.Fatalf("after snapshot: %d records, ops %q; want 11 ending rrrrr", len(got), ops(got[6:]))
	}
	s.api.Put("Deals", deal(4, base.Add(2*time.Hour), "changed"))
	polltest.Pass(t, p, "Deals")
	if got := s.env.ReadAll(dealsTopic); len(got) != 12 || got[11].Op() != "u" {
		t.Fatalf("after snapshot and a change: %d records", len(got))
	}
}
