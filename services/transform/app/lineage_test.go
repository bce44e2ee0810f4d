package app

import (
	"testing"
	"time"

	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/lineage/lineagetest"
)

// TestLineageModelRuns runs the project with RIACHO_LINEAGE_URL at a
// receiver: each model's committed batches form one run, START then (at
// shutdown, the interval being long) COMPLETE with the records written,
// reading its input topic and writing its staging topic.
func TestLineageModelRuns(t *testing.T) {
	rv := lineagetest.NewReceiver(t)
	h := newHarness(t)
	h.extraEnv = []string{"RIACHO_LINEAGE_URL=" + rv.URL(), "RIACHO_LINEAGE_INTERVAL=1h"}
	h.start(writeFiles(t, testProject))
	h.produce([]int64{1, 2, 3}, "Won")
	waitFor(t, "three won leads", func() bool {
		return h.mustCommand(VerbModels, nil).Result["won_leads.records_out"] == "3"
	})
	rv.Wait(30*time.Second, "START of both models", func(evs []lineage.RunEvent) bool {
		return len(lineagetest.OfJob(evs, "transform.stg_leads")) > 0 && len(lineagetest.OfJob(evs, "transform.won_leads")) > 0
	})
	h.stop()

	kafkaNS := "kafka://" + h.kc.Addrs()[0]
	for _, tc := range []struct{ job, in, out string }{
		{"transform.stg_leads", "raw.ploomes.leads", "staging.stg_leads"},
		{"transform.won_leads", "staging.stg_leads", "staging.won_leads"},
	} {
		evs := lineagetest.OfJob(rv.Events(), tc.job)
		if len(evs) != 2 || evs[0].EventType != lineage.Start || evs[1].EventType != lineage.Complete || evs[0].Run.RunID != evs[1].Run.RunID {
			t.Errorf("%s: want START then COMPLETE of one run; got %s", tc.job, lineagetest.Describe(evs))
			continue
		}
		for _, ev := range evs {
			if len(ev.Inputs) != 1 || ev.Inputs[0].Namespace != kafkaNS || ev.Inputs[0].Name != tc.in ||
				len(ev.Outputs) != 1 || ev.Outputs[0].Namespace != kafkaNS || ev.Outputs[0].Name != tc.out {
				t.Errorf("%s %s: inputs %+v outputs %+v, want %s → %s", tc.job, ev.EventType, ev.Inputs, ev.Outputs, tc.in, tc.out)
			}
		}
		if n := evs[1].Outputs[0].OutputFacets.OutputStatistics.RowCount; n != 3 {
			t.Errorf("%s: rowCount %d, want 3", tc.job, n)
		}
	}
}

// TestLineageModelFailure runs a model that cannot be prepared (it selects
// a column the source does not have): its loop fails, and each failure is
// a FAIL run naming the error.
func TestLineageModelFailure(t *testing.T) {
	rv := lineagetest.NewReceiver(t)
	h := newHarness(t)
	h.extraEnv = []string{"RIACHO_LINEAGE_URL=" + rv.URL(), "RIACHO_TRANSFORM_RETRY_BACKOFF=1h"}
	h.start(writeFiles(t, map[string]string{
		"dbt_project.yml":    "name: svc_fail\nversion: '1.0'\nconfig-version: 2\n",
		"models/sources.yml": testProject["models/sources.yml"],
		"models/broken.sql":  "SELECT lead_id, no_such_column FROM {{ source('ploomes', 'leads') }}\n",
	}))
	evs := rv.Wait(60*time.Second, "FAIL of transform.broken", func(evs []lineage.RunEvent) bool {
		got := lineagetest.OfJob(evs, "transform.broken")
		return len(got) >= 2 && got[1].EventType == lineage.Fail
	})
	h.stop()
	got := lineagetest.OfJob(evs, "transform.broken")
	if got[0].EventType != lineage.Start || got[0].Run.RunID != got[1].Run.RunID {
		t.Errorf("want START then FAIL of one run; got %s", lineagetest.Describe(got))
	}
	if f := got[1].Run.Facets; f == nil || f.ErrorMessage == nil || f.ErrorMessage.Message == "" {
		t.Errorf("FAIL without an errorMessage facet: %+v", got[1].Run)
	}
}
