package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/lineage/lineagetest"
	"github.com/riacho/riacho/services/sink/internal/engine"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// TestLineageRunPerTableCommit runs the sink with RIACHO_LINEAGE_URL at a
// receiver: one table commit is one run, START then COMPLETE, reading the
// raw topic and writing the lake table with the commit's statistics.
func TestLineageRunPerTableCommit(t *testing.T) {
	rv := lineagetest.NewReceiver(t)
	h := newHarness(t, "RIACHO_LINEAGE_URL="+rv.URL(), "RIACHO_LINEAGE_NAMESPACE=acme")
	const topic = "raw.ploomes.leads"
	h.kc.CreateTopic(t, topic, 1)
	h.produce(topic, 0, 30, time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC))
	waitFor(t, "the commit", func() bool { return h.details()["records_written"] == "30" })
	h.stop() // flushes the emitter

	evs := lineagetest.OfJob(rv.Events(), "sink.raw_ploomes.leads")
	if len(evs) != 2 || evs[0].EventType != lineage.Start || evs[1].EventType != lineage.Complete {
		t.Fatalf("want START then COMPLETE of sink.raw_ploomes.leads; got %s", lineagetest.Describe(rv.Events()))
	}
	start, done := evs[0], evs[1]
	if start.Run.RunID != done.Run.RunID || start.Job.Namespace != "acme" {
		t.Errorf("run ids %s/%s, job namespace %q", start.Run.RunID, done.Run.RunID, start.Job.Namespace)
	}
	wantIn := lineage.Dataset{Namespace: "kafka://" + h.kc.Addrs()[0], Name: topic}
	wantOut := lineage.Dataset{Namespace: "file://" + h.lakeDir, Name: "raw_ploomes.leads"}
	for _, ev := range evs {
		if len(ev.Inputs) != 1 || ev.Inputs[0].Dataset != wantIn {
			t.Errorf("%s inputs %+v, want %+v", ev.EventType, ev.Inputs, wantIn)
		}
		if len(ev.Outputs) != 1 || ev.Outputs[0].Namespace != wantOut.Namespace || ev.Outputs[0].Name != wantOut.Name {
			t.Errorf("%s outputs %+v, want %+v", ev.EventType, ev.Outputs, wantOut)
		}
	}
	st := done.Outputs[0].OutputFacets.OutputStatistics
	if st.RowCount != 30 || st.Size <= 0 || st.FileCount != 1 {
		t.Errorf("outputStatistics %+v, want 30 rows in 1 file of some bytes", st)
	}
}

// TestLineageCommitOutcomes maps the engine's commit outcomes to run
// events sent to a receiver: a failed commit is FAIL with the error, a
// range the table already had (or shutdown) is ABORT.
func TestLineageCommitOutcomes(t *testing.T) {
	rv := lineagetest.NewReceiver(t)
	cfg := lineage.DefaultConfig()
	cfg.URL = rv.URL()
	em, err := lineage.New(cfg, lineage.Options{Service: "sink"})
	if err != nil {
		t.Fatal(err)
	}
	hook := commitRuns(em, []string{"b:9092"}, "file:///lake")
	for _, o := range []engine.CommitOutcome{
		{Err: errors.New("commit table raw_x.y: catalog: database is locked")},
		{Err: fmt.Errorf("commit: %w", table.ErrAlreadyCommitted)},
		{Err: context.Canceled},
		{Records: 5, Bytes: 100, Files: 1},
	} {
		hook("raw.x.y", "raw_x.y")(o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var got []lineage.EventType
	evs := rv.Events()
	for _, e := range evs {
		got = append(got, e.EventType)
	}
	want := []lineage.EventType{lineage.Start, lineage.Fail, lineage.Start, lineage.Abort, lineage.Start, lineage.Abort, lineage.Start, lineage.Complete}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if msg := evs[1].Run.Facets.ErrorMessage.Message; msg != "commit table raw_x.y: catalog: database is locked" {
		t.Errorf("errorMessage %q", msg)
	}
	if commitRuns(nil, nil, "") != nil {
		t.Error("lineage off: the engine hook is not nil")
	}
}
