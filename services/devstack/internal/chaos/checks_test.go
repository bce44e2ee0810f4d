package chaos

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tally is a multiset of ids in short: rows, distinct ids, and the sum
// (mod 2^64, each id as often as it occurs) of the first 8 bytes of each
// id's SHA-256. Two equal tallies mean the same ids the same number of
// times, up to a hash collision.
type tally struct {
	rows, distinct int
	sum            uint64
}

func tallyOf(counts map[string]int) tally {
	var tl tally
	for id, n := range counts {
		h := sha256.Sum256([]byte(id))
		tl.rows += n
		tl.distinct++
		tl.sum += uint64(n) * binary.BigEndian.Uint64(h[:8])
	}
	return tl
}

func (tl tally) String() string {
	return fmt.Sprintf("%d rows, %d distinct, checksum %016x", tl.rows, tl.distinct, tl.sum)
}

// once is the multiset holding each id of set once.
func once[V any](set map[string]V) map[string]int {
	out := make(map[string]int, len(set))
	for id := range set {
		out[id] = 1
	}
	return out
}

// gatedModel is a demo model the quality gate checks, and which accepted
// deals it carries to curated or quarantine.
type gatedModel struct {
	name string
	// carries says the model has a row for the event; curated says the row
	// passes the model's suites.
	carries, curated func(accepted) bool
}

var gatedModels = []gatedModel{
	// stg_ploomes_leads keeps deals with an e-mail (WHERE email IS NOT NULL);
	// the seed's ASCII-only regex quarantines the accented ones.
	{name: "stg_ploomes_leads",
		carries: func(e accepted) bool { return e.deal != 0 && e.lead },
		curated: func(e accepted) bool { return e.curated }},
	// fct_subscriptions has every deal; the demo's amounts pass its suite.
	{name: "fct_subscriptions",
		carries: func(e accepted) bool { return e.deal != 0 },
		curated: func(accepted) bool { return true }},
}

// expected returns the accepted events m carries, by the model's key (the deal id).
func (m gatedModel) expected(want map[string]accepted) map[string]accepted {
	out := map[string]accepted{}
	for _, e := range want {
		if m.carries(e) {
			out[strconv.FormatInt(e.deal, 10)] = e
		}
	}
	return out
}

// routed returns, per key, the topics (curated.<model>, quarantine.<model>)
// holding a committed record of it, once per record.
func (st *stack) routed(t *testing.T, model string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, topic := range []string{"curated." + model, "quarantine." + model} {
		for key, n := range st.readKeys(t, topic) {
			for range n {
				out[key] = append(out[key], topic)
			}
		}
	}
	return out
}

// checkLake proves that each raw table holds exactly its topic's records
// (the sink's guarantee) and every accepted event: an event is there more
// than once only when its raw topic has it more than once, which the
// intake's at-least-once contract allows only after a request that failed
// ambiguously (reset, timeout, 5xx) and was sent again.
func (st *stack) checkLake(t *testing.T, want map[string]accepted) {
	t.Helper()
	lake := openLake(t, st.lake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, topic := range rawTopics(want) {
		got, err := lake.ids(ctx, topic, "event_id")
		if err != nil {
			t.Fatal(err)
		}
		raw := st.readKeys(t, topic)
		var missing, unexplained, unexpected, differ []string
		acc := map[string]int{}
		dups := 0
		for id, e := range want {
			if e.topic != topic {
				continue
			}
			acc[id] = 1
			switch n := got[id]; {
			case n == 0:
				missing = append(missing, id)
			case n > 1 && e.ambiguous == 0:
				unexplained = append(unexplained, fmt.Sprintf("%s×%d", id, n))
			case n > 1:
				dups++
			}
		}
		for id, n := range got {
			if acc[id] == 0 {
				unexpected = append(unexpected, id)
			}
			if raw[id] != n {
				differ = append(differ, fmt.Sprintf("%s: %d in the lake, %d in %s", id, n, raw[id], topic))
			}
		}
		for id, n := range raw {
			if got[id] == 0 {
				differ = append(differ, fmt.Sprintf("%s: 0 in the lake, %d in %s", id, n, topic))
			}
		}
		table := strings.Join(ident(topic), ".")
		report(t, table+": accepted events missing", missing)
		report(t, table+": events written more than once although the intake answered their first request", unexplained)
		report(t, table+": events the generator never had accepted", unexpected)
		report(t, table+": the table does not hold exactly the records of its topic", differ)
		distinct := once(got)
		if tallyOf(distinct) != tallyOf(acc) {
			t.Errorf("%s: distinct event ids %v, accepted %v", table, tallyOf(distinct), tallyOf(acc))
		}
		t.Logf("lake %s: accepted %v; current snapshot %v (events repeated after an ambiguous failure: %d; %s holds %v)",
			table, tallyOf(acc), tallyOf(got), dups, topic, tallyOf(raw))
	}
}

// checkGate proves every accepted deal a gated model carries is in exactly
// one of curated.<model> and quarantine.<model>, once, in the right one;
// it returns the keys of curated.fct_subscriptions.
func (st *stack) checkGate(t *testing.T, want map[string]accepted) map[string]bool {
	t.Helper()
	var fct map[string]bool
	for _, m := range gatedModels {
		exp := m.expected(want)
		got := st.routed(t, m.name)
		var missing, twice, wrong, unexpected []string
		counts := map[string]int{}
		curated, quarantined := 0, 0
		for key, topics := range got {
			counts[key] = len(topics)
			e, ok := exp[key]
			switch {
			case !ok:
				unexpected = append(unexpected, key)
			case len(topics) > 1:
				twice = append(twice, fmt.Sprintf("%s in %s", key, strings.Join(topics, ", ")))
			case (topics[0] == "curated."+m.name) != m.curated(e):
				wrong = append(wrong, fmt.Sprintf("%s in %s", key, topics[0]))
			}
			if len(topics) > 0 && topics[0] == "curated."+m.name {
				curated++
			} else {
				quarantined++
			}
		}
		for key := range exp {
			if got[key] == nil {
				missing = append(missing, key)
			}
		}
		report(t, m.name+": accepted deals in neither curated nor quarantine", missing)
		report(t, m.name+": deals routed more than once", twice)
		report(t, m.name+": deals in the wrong one of curated and quarantine", wrong)
		report(t, m.name+": keys no accepted deal has", unexpected)
		if tallyOf(counts) != tallyOf(once(exp)) {
			t.Errorf("%s: curated+quarantine %v, accepted %v", m.name, tallyOf(counts), tallyOf(once(exp)))
		}
		t.Logf("gate %s: accepted %v; curated+quarantine %v (%d curated, %d quarantined)",
			m.name, tallyOf(once(exp)), tallyOf(counts), curated, quarantined)
		if m.name == "fct_subscriptions" {
			fct = map[string]bool{}
			for key, topics := range got {
				if topics[0] == "curated."+m.name {
					fct[key] = true
				}
			}
		}
	}
	return fct
}

// checkWarehouse stops the metrics process (DuckDB admits one process)
// and proves fct_subscriptions holds each curated subscription once; while
// the loader has not caught up it restarts the process and looks again.
func (st *stack) checkWarehouse(t *testing.T, curated map[string]bool) {
	t.Helper()
	s := st.svcs["metrics"]
	var got map[string]int
	waitFor(t, 3*time.Minute, "the metrics loader to load every curated subscription", func() (bool, string) {
		s.stop(t, time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var err error
		got, err = warehouseIDs(ctx, st.warehouse)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for id := range curated {
			if got[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return true, ""
		}
		s.start(t, 2*time.Minute)
		time.Sleep(2 * time.Second) // let the loader read before looking again
		return false, fmt.Sprintf("%d of %d missing from the warehouse: %s", len(missing), len(curated), fmtIDs(missing, 5))
	})
	var twice, unexpected []string
	for id, n := range got {
		if !curated[id] {
			unexpected = append(unexpected, id)
		} else if n > 1 {
			twice = append(twice, fmt.Sprintf("%s×%d", id, n))
		}
	}
	report(t, "warehouse fct_subscriptions: subscriptions loaded more than once", twice)
	report(t, "warehouse fct_subscriptions: subscriptions not in curated.fct_subscriptions", unexpected)
	if tallyOf(got) != tallyOf(once(curated)) {
		t.Errorf("warehouse fct_subscriptions %v, curated %v", tallyOf(got), tallyOf(once(curated)))
	}
	t.Logf("warehouse fct_subscriptions: curated %v; loaded %v", tallyOf(once(curated)), tallyOf(got))
}

// report fails t with what and the first few ids when ids is not empty.
func report(t *testing.T, what string, ids []string) {
	t.Helper()
	if len(ids) > 0 {
		t.Errorf("%s (%d): %s", what, len(ids), fmtIDs(ids, 5))
	}
}
