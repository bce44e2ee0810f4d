package lineage

import (
	"sync/atomic"

	"github.com/google/uuid"
)

// Run is one run of a job: started by Emitter.Start, ended by exactly one
// of Complete, Fail or Abort (later calls do nothing). A nil *Run does
// nothing.
type Run struct {
	e       *Emitter
	id      string
	job     string
	inputs  []Dataset
	outputs []Dataset
	ended   atomic.Bool
}

// Start emits START for a new run of job reading inputs and writing
// outputs, and returns the run (nil when e is nil).
func (e *Emitter) Start(job string, inputs, outputs []Dataset) *Run {
	if e == nil {
		return nil
	}
	r := &Run{e: e, id: newRunID(), job: job, inputs: inputs, outputs: outputs}
	e.Emit(r.event(Start, nil, nil))
	return r
}

// newRunID is a time-ordered (version 7) UUID, or a random one if the
// clock source fails.
func newRunID() string {
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// ID is the run's UUID ("" for a nil run).
func (r *Run) ID() string {
	if r == nil {
		return ""
	}
	return r.id
}

// Complete emits COMPLETE; stats[i], when given, is what the run wrote to
// its i-th output (its outputStatistics facet).
func (r *Run) Complete(stats ...Stats) {
	if r == nil || !r.ended.CompareAndSwap(false, true) {
		return
	}
	r.e.Emit(r.event(Complete, stats, nil))
}

// Fail emits FAIL with err's text in the errorMessage run facet.
func (r *Run) Fail(err error) {
	if r == nil || !r.ended.CompareAndSwap(false, true) {
		return
	}
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	r.e.Emit(r.event(Fail, nil, &msg))
}

// Abort emits ABORT: the run's work was dropped without an error (to be
// done again, or already done by another run).
func (r *Run) Abort() {
	if r == nil || !r.ended.CompareAndSwap(false, true) {
		return
	}
	r.e.Emit(r.event(Abort, nil, nil))
}

// event builds one event of the run.
func (r *Run) event(t EventType, stats []Stats, errMsg *string) RunEvent {
	e := r.e
	ev := RunEvent{
		EventType: t,
		Run:       RunInfo{RunID: r.id},
		Job:       Job{Namespace: e.cfg.Namespace, Name: r.job, Facets: &JobFacets{JobType: e.jobType}},
		Inputs:    make([]InputDataset, len(r.inputs)),
		Outputs:   make([]OutputDataset, len(r.outputs)),
	}
	if e.engine != nil || errMsg != nil {
		ev.Run.Facets = &RunFacets{ProcessingEngine: e.engine}
	}
	if errMsg != nil {
		ev.Run.Facets.ErrorMessage = &ErrorMessageFacet{
			BaseFacet: BaseFacet{Producer: e.opts.Producer, SchemaURL: ErrorMessageFacetURL},
			Message:   *errMsg, ProgrammingLanguage: "GO",
		}
	}
	for i, d := range r.inputs {
		ev.Inputs[i] = InputDataset{Dataset: d}
	}
	for i, d := range r.outputs {
		ev.Outputs[i] = OutputDataset{Dataset: d}
		if i < len(stats) {
			s := stats[i]
			ev.Outputs[i].OutputFacets = &OutputFacets{OutputStatistics: &OutputStatisticsFacet{
				BaseFacet: BaseFacet{Producer: e.opts.Producer, SchemaURL: OutputStatisticsFacetURL},
				RowCount:  s.Rows, Size: s.Bytes, FileCount: s.Files,
			}}
		}
	}
	return ev
}
