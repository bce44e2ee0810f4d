package lineage_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/lineage"
)

var (
	curated    = lineage.KafkaTopic([]string{"k:9092"}, "curated.leads")
	quarantine = lineage.KafkaTopic([]string{"k:9092"}, "quarantine.leads")
)

// TestWindowAggregatesCommits groups commits into runs: one START for the
// first commit, a COMPLETE with the cumulative statistics on Complete, a
// new run for the next commit, FAIL for an error, and a run that Close
// completes.
func TestWindowAggregatesCommits(t *testing.T) {
	rv := newReceiver(t)
	em := newEmitter(t, httpConfig(rv.url()), nil)
	w := em.Window("quality.leads", []lineage.Dataset{rawLeads}, []lineage.Dataset{curated, quarantine}, 0)
	w.Add(lineage.Stats{Rows: 10}, lineage.Stats{Rows: 1})
	w.Add(lineage.Stats{Rows: 5}, lineage.Stats{Rows: 2})
	w.Complete()
	w.Complete() // nothing open: nothing sent
	w.Add(lineage.Stats{Rows: 7})
	w.Fail(errors.New("suite cannot run"))
	w.Fail(errors.New("registry down")) // nothing open: a run is started to fail
	w.Add(lineage.Stats{Rows: 3}, lineage.Stats{Rows: 3})
	w.Close()
	w.Add(lineage.Stats{Rows: 100}) // after Close: nothing sent
	closeEmitter(t, em)

	evs := rv.events()
	want := []lineage.EventType{lineage.Start, lineage.Complete, lineage.Start, lineage.Fail,
		lineage.Start, lineage.Fail, lineage.Start, lineage.Complete}
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("event types %v, want %v", got, want)
	}
	rows := func(ev lineage.RunEvent) []int64 {
		var out []int64
		for _, o := range ev.Outputs {
			out = append(out, o.OutputFacets.OutputStatistics.RowCount)
		}
		return out
	}
	if got := rows(evs[1]); !slices.Equal(got, []int64{15, 3}) {
		t.Errorf("first window rows %v, want [15 3]", got)
	}
	if got := rows(evs[7]); !slices.Equal(got, []int64{3, 3}) {
		t.Errorf("last window rows %v, want [3 3]", got)
	}
	if evs[2].Run.RunID != evs[3].Run.RunID || evs[4].Run.RunID != evs[5].Run.RunID || evs[3].Run.RunID == evs[5].Run.RunID {
		t.Error("FAIL events do not end the run their START began")
	}
	if evs[5].Run.Facets.ErrorMessage.Message != "registry down" {
		t.Errorf("errorMessage %q", evs[5].Run.Facets.ErrorMessage.Message)
	}
}

// TestWindowIntervalEndsRun completes an open run once its interval has
// passed, without any further commit, and starts the next run on the next
// commit.
func TestWindowIntervalEndsRun(t *testing.T) {
	rv := newReceiver(t)
	em := newEmitter(t, httpConfig(rv.url()), nil)
	w := em.Window("transform.stg_leads", []lineage.Dataset{rawLeads}, []lineage.Dataset{curated}, 50*time.Millisecond)
	w.Add(lineage.Stats{Rows: 4})
	w.Add(lineage.Stats{Rows: 6})
	rv.waitRequests(2) // START, then COMPLETE from the timer
	w.Add(lineage.Stats{Rows: 1})
	w.Close()
	closeEmitter(t, em)
	evs := rv.events()
	if got, want := types(evs), []lineage.EventType{lineage.Start, lineage.Complete, lineage.Start, lineage.Complete}; !slices.Equal(got, want) {
		t.Fatalf("event types %v, want %v", got, want)
	}
	if n := evs[1].Outputs[0].OutputFacets.OutputStatistics.RowCount; n != 10 {
		t.Errorf("first run rows %d, want 10", n)
	}
	if evs[0].Run.RunID == evs[2].Run.RunID {
		t.Error("the commit after the interval did not start a new run")
	}
}
