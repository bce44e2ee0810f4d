package app

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/lineage/lineagetest"
)

const loaderJob = "metrics.riacho-metrics-loader"

// TestLineageLoaderRuns runs the service with RIACHO_LINEAGE_URL at a
// receiver: the loader's transactions form one run, START then (at
// shutdown, the interval being long) COMPLETE, reading the curated topic
// and writing the DuckDB warehouse table with the records loaded.
func TestLineageLoaderRuns(t *testing.T) {
	rv := lineagetest.NewReceiver(t)
	b := startBroker(t)
	subs := genSubs(7, 40)
	b.produce(t, subs)
	path := filepath.Join(t.TempDir(), "w.duckdb")
	// Registered before startService: runs after the service has stopped
	// and flushed its events.
	t.Cleanup(func() {
		evs := lineagetest.OfJob(rv.Events(), loaderJob)
		if len(evs) != 2 || evs[0].EventType != lineage.Start || evs[1].EventType != lineage.Complete || evs[0].Run.RunID != evs[1].Run.RunID {
			t.Fatalf("want START then COMPLETE of one run; got %s", lineagetest.Describe(evs))
		}
		for _, ev := range evs {
			if len(ev.Inputs) != 1 || ev.Inputs[0].Namespace != "kafka://"+b.kc.Addrs()[0] || ev.Inputs[0].Name != "curated.fct_subscriptions" {
				t.Errorf("%s inputs %+v", ev.EventType, ev.Inputs)
			}
			if len(ev.Outputs) != 1 || ev.Outputs[0].Namespace != "duckdb://"+path || ev.Outputs[0].Name != "w.main.fct_subscriptions" {
				t.Errorf("%s outputs %+v", ev.EventType, ev.Outputs)
			}
		}
		if n := evs[1].Outputs[0].OutputFacets.OutputStatistics.RowCount; n != int64(len(subs)) {
			t.Errorf("rowCount %d, want %d", n, len(subs))
		}
	})
	r := startService(t, b, "duckdb://"+path, "RIACHO_LINEAGE_URL="+rv.URL(), "RIACHO_LINEAGE_INTERVAL=1h")
	waitFor(t, "every record loaded", func() bool {
		return r.svc.Loader().Status().Rows["fct_subscriptions"] == int64(len(subs))
	})
	rv.Wait(30*time.Second, "START of "+loaderJob, func(evs []lineage.RunEvent) bool {
		return len(lineagetest.OfJob(evs, loaderJob)) > 0
	})
}

// TestLineageLoaderFailure starts the loader with a schema registry that
// is gone: its transaction cannot decode the records, and the run is FAIL
// with the error (the loader keeps retrying).
func TestLineageLoaderFailure(t *testing.T) {
	rv := lineagetest.NewReceiver(t)
	b := startBroker(t)
	b.produce(t, genSubs(3, 5))
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	b.regURL = gone.URL
	startService(t, b, "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"), "RIACHO_LINEAGE_URL="+rv.URL())
	evs := rv.Wait(60*time.Second, "FAIL of "+loaderJob, func(evs []lineage.RunEvent) bool {
		got := lineagetest.OfJob(evs, loaderJob)
		return len(got) >= 2 && got[1].EventType == lineage.Fail
	})
	got := lineagetest.OfJob(evs, loaderJob)
	if got[0].EventType != lineage.Start || got[0].Run.RunID != got[1].Run.RunID {
		t.Errorf("want START then FAIL of one run; got %s", lineagetest.Describe(got))
	}
	if f := got[1].Run.Facets; f == nil || f.ErrorMessage == nil || f.ErrorMessage.Message == "" {
		t.Errorf("FAIL without an errorMessage facet: %+v", got[1].Run)
	}
}
