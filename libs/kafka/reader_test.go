package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
)

// fastGroup makes group membership changes quick against kfake.
var fastGroup = []kgo.Opt{kgo.HeartbeatInterval(100 * time.Millisecond), kgo.MetadataMinAge(100 * time.Millisecond)}

func newReader(t testing.TB, cfg kafka.Config, opts kafka.ReaderOptions) *kafka.Reader {
	t.Helper()
	r, err := kafka.NewReader(cfg, opts, fastGroup...)
	if err != nil {
		t.Fatalf("new reader: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// pollN polls until it has n records or ctx ends.
func pollN(t testing.TB, ctx context.Context, r *kafka.Reader, n int) []*kgo.Record {
	t.Helper()
	var out []*kgo.Record
	for len(out) < n {
		recs, err := r.Poll(ctx)
		if err != nil {
			t.Fatalf("poll after %d of %d records: %v", len(out), n, err)
		}
		out = append(out, recs...)
	}
	return out
}

func produce(t testing.TB, c *kafkatest.Cluster, recs []*kgo.Record) {
	t.Helper()
	p := newProducer(t, c.Config(), kafka.ProducerOptions{})
	if err := p.ProduceAll(testCtx(t, 10*time.Second), recs); err != nil {
		t.Fatalf("produce: %v", err)
	}
	p.Close()
}

func values(recs []*kgo.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}

func TestReaderCommitAndResume(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.resume", 1)
	produce(t, c, records("raw.resume", 10, "v"))
	ctx := testCtx(t, 30*time.Second)
	opts := kafka.ReaderOptions{Group: "sink", Topics: []string{"raw.resume"}}

	r1 := newReader(t, c.Config(), opts)
	got := pollN(t, ctx, r1, 10)
	if err := r1.Commit(ctx, got[:6]...); err != nil { // processed v-0..v-5
		t.Fatal(err)
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r1.Poll(ctx); !errors.Is(err, kafka.ErrClosed) {
		t.Fatalf("Poll after Close: %v", err)
	}

	r2 := newReader(t, c.Config(), opts)
	again := pollN(t, ctx, r2, 4)
	if got, want := strings.Join(values(again), ","), "v-6,v-7,v-8,v-9"; got != want {
		t.Fatalf("second reader got %s, want the uncommitted %s", got, want)
	}
	if again[0].Offset != 6 {
		t.Fatalf("resumed at offset %d, want 6", again[0].Offset)
	}
}

func TestReaderMarkCommittedOnClose(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.mark", 2)
	produce(t, c, records("raw.mark", 20, "v"))
	ctx := testCtx(t, 30*time.Second)
	opts := kafka.ReaderOptions{Group: "g", Topics: []string{"raw.mark"}}

	r1 := newReader(t, c.Config(), opts)
	got := pollN(t, ctx, r1, 20)
	// Mark everything but the last record of each partition; marks never
	// move backwards, so marking an older record afterwards is harmless.
	last := map[int32]*kgo.Record{}
	for _, r := range got {
		last[r.Partition] = r
	}
	var keep []*kgo.Record
	for _, r := range got {
		if r != last[r.Partition] {
			r1.Mark(r)
			continue
		}
		keep = append(keep, r)
	}
	r1.Mark(got[0])
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}

	r2 := newReader(t, c.Config(), opts)
	again := pollN(t, ctx, r2, len(keep))
	if len(again) != len(keep) {
		t.Fatalf("redelivered %v, want only %v", values(again), values(keep))
	}
	want := map[string]bool{}
	for _, r := range keep {
		want[string(r.Value)] = true
	}
	for _, r := range again {
		if !want[string(r.Value)] {
			t.Errorf("%s was marked yet redelivered", r.Value)
		}
	}
}

func TestReaderTopicRegex(t *testing.T) {
	c := kafkatest.NewCluster(t)
	for _, tp := range []string{"raw.a.x", "raw.b.y", "staging.z"} {
		c.CreateTopic(t, tp, 1)
		produce(t, c, records(tp, 2, tp))
	}
	r := newReader(t, c.Config(), kafka.ReaderOptions{Group: "regex", Topics: []string{`^raw\..*`}, TopicRegex: true})
	got := pollN(t, testCtx(t, 20*time.Second), r, 4)
	// Give a wrongly matched topic a chance to show up.
	pctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	more, _ := r.Poll(pctx)
	cancel()
	got = append(got, more...)
	topics := map[string]int{}
	for _, rec := range got {
		topics[rec.Topic]++
	}
	if topics["raw.a.x"] != 2 || topics["raw.b.y"] != 2 || topics["staging.z"] != 0 {
		t.Fatalf("records per topic %v, want 2 from each raw.* topic and none from staging.z", topics)
	}
}

func TestReaderLag(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.lag", 2)
	recs := records("raw.lag", 7, "v")
	for _, r := range recs {
		r.Partition = 0
	}
	p := newProducer(t, c.Config(), kafka.ProducerOptions{}, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := p.ProduceAll(testCtx(t, 10*time.Second), recs); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 30*time.Second)
	r := newReader(t, c.Config(), kafka.ReaderOptions{Group: "lagging", Topics: []string{"raw.lag"}})

	got := pollN(t, ctx, r, 7)
	var p0 []*kgo.Record
	for _, rec := range got {
		if rec.Offset == 3 {
			p0 = append(p0, rec)
		}
	}
	if len(p0) != 1 {
		t.Fatalf("want one record at offset 3, got %d", len(p0))
	}
	if err := r.Commit(ctx, p0...); err != nil { // committed offset 4
		t.Fatal(err)
	}
	lags, err := r.Lag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byPartition := map[string]kafka.Lag{}
	for _, l := range lags {
		byPartition[fmt.Sprintf("%s/%d", l.Topic, l.Partition)] = l
	}
	l0, ok := byPartition["raw.lag/0"]
	if !ok {
		t.Fatalf("no lag for raw.lag/0 in %+v", lags)
	}
	if l0.Committed != 4 || l0.End != 7 || l0.Lag != 3 || l0.MemberID == "" {
		t.Fatalf("lag raw.lag/0 = %+v, want committed 4, end 7, lag 3 and a member", l0)
	}
	if l1, ok := byPartition["raw.lag/1"]; ok && l1.Lag != 0 {
		t.Fatalf("empty partition 1 lag = %+v, want 0", l1)
	}
}

// TestReaderRebalanceCommitsMarks: a member that marked records and then
// loses partitions to a new member commits its marks in the revoke, so the
// new member does not receive them again.
func TestReaderRebalanceCommitsMarks(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "raw.rebalance", 4)
	produce(t, c, records("raw.rebalance", 40, "first"))
	ctx := testCtx(t, 30*time.Second)
	opts := kafka.ReaderOptions{Group: "shared", Topics: []string{"raw.rebalance"}, RebalanceTimeout: 5 * time.Second}

	r1 := newReader(t, c.Config(), opts)
	r1.Mark(pollN(t, ctx, r1, 40)...)
	r2 := newReader(t, c.Config(), opts)

	// Both members poll and mark what they get; r1's Polls let the
	// rebalance that r2's arrival starts run, revoking some of r1's
	// partitions (and committing r1's marks for them).
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	pctx, stop := context.WithCancel(ctx)
	loop := func(r *kafka.Reader) error {
		for pctx.Err() == nil {
			recs, err := r.Poll(pctx)
			if err != nil && pctx.Err() == nil {
				return err
			}
			mu.Lock()
			for _, rec := range recs {
				seen[string(rec.Value)]++
			}
			mu.Unlock()
			r.Mark(recs...)
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = loop(r1) })
	wg.Go(func() { errs[1] = loop(r2) })
	defer func() { stop(); wg.Wait() }()

	members := func() int {
		lags, err := r1.Lag(ctx)
		if err != nil {
			return 0
		}
		m := map[string]bool{}
		for _, l := range lags {
			if l.MemberID != "" {
				m[l.MemberID] = true
			}
		}
		return len(m)
	}
	for members() != 2 {
		if ctx.Err() != nil {
			t.Fatal("r2 never got partitions")
		}
		time.Sleep(50 * time.Millisecond)
	}

	produce(t, c, records("raw.rebalance", 40, "second"))
	second := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for v := range seen {
			if strings.HasPrefix(v, "second") {
				n++
			}
		}
		return n
	}
	for second() < 40 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := second(); n != 40 {
		t.Fatalf("read %d of 40 records produced after the rebalance", n)
	}
	for v, n := range seen {
		if strings.HasPrefix(v, "first") {
			t.Errorf("%s redelivered after the rebalance although it was marked", v)
		}
		if n > 1 {
			t.Errorf("%s delivered %d times", v, n)
		}
	}
}

func TestReaderReadCommitted(t *testing.T) {
	c := kafkatest.NewCluster(t)
	c.CreateTopic(t, "staging.txn", 1)
	ctx := testCtx(t, 30*time.Second)

	txn, err := kafka.NewClient(c.Config(), kgo.TransactionalID("transform-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	for _, tc := range []struct {
		value  string
		commit kgo.TransactionEndTry
	}{{"aborted", kgo.TryAbort}, {"committed", kgo.TryCommit}} {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := txn.ProduceSync(ctx, &kgo.Record{Topic: "staging.txn", Value: []byte(tc.value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := txn.EndTransaction(ctx, tc.commit); err != nil {
			t.Fatal(err)
		}
	}

	for _, tt := range []struct {
		readCommitted bool
		want          string
	}{{true, "committed"}, {false, "aborted,committed"}} {
		t.Run(fmt.Sprintf("read_committed=%t", tt.readCommitted), func(t *testing.T) {
			r := newReader(t, c.Config(), kafka.ReaderOptions{
				Group: fmt.Sprintf("rc-%t", tt.readCommitted), Topics: []string{"staging.txn"}, ReadCommitted: tt.readCommitted,
			})
			n := strings.Count(tt.want, ",") + 1
			if got := strings.Join(values(pollN(t, ctx, r, n)), ","); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestReaderOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts kafka.ReaderOptions
		want string
	}{
		{"no group", kafka.ReaderOptions{Topics: []string{"a"}}, "group is required"},
		{"no topics", kafka.ReaderOptions{Group: "g"}, "at least one topic"},
		{"bad regex", kafka.ReaderOptions{Group: "g", Topics: []string{"raw.(("}, TopicRegex: true}, "raw.(("},
		{"bad start", kafka.ReaderOptions{Group: "g", Topics: []string{"a"}, Start: 7}, "start offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kafka.NewReader(kafka.DefaultConfig(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
