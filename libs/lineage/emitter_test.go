package lineage_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/lineage"
)

func httpConfig(url string) lineage.Config {
	cfg := lineage.DefaultConfig()
	cfg.URL = url
	cfg.Timeout = 5 * time.Second
	return cfg
}

func newEmitter(t *testing.T, cfg lineage.Config, reg *prometheus.Registry) *lineage.Emitter {
	t.Helper()
	opts := lineage.Options{Service: "sink", Version: "1.2.3", RetryBackoff: 10 * time.Millisecond}
	if reg != nil {
		opts.Registerer = reg
	}
	em, err := lineage.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if em == nil {
		t.Fatal("New returned a nil emitter for an enabled configuration")
	}
	t.Cleanup(func() { _ = em.Close(context.Background()) })
	return em
}

func closeEmitter(t *testing.T, em *lineage.Emitter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := em.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

var (
	rawLeads  = lineage.KafkaTopic([]string{"kafka-0:9092", "kafka-1:9092"}, "raw.ploomes.leads")
	lakeLeads = lineage.LakeTable("s3://user:pw@lake/prod?endpoint=http://minio:9000", "raw_ploomes.leads")
)

// TestHTTPRunLifecycle sends a START, a COMPLETE with statistics and a
// FAIL to a real HTTP receiver: each is a JSON POST to the URL's path with
// the bearer token, decodes strictly into the event types, and carries the
// spec's field names.
func TestHTTPRunLifecycle(t *testing.T) {
	rv := newReceiver(t)
	cfg := httpConfig(rv.url())
	cfg.Token = "s3cr3t"
	cfg.Namespace = "riacho-prod"
	reg := prometheus.NewRegistry()
	em := newEmitter(t, cfg, reg)

	r := em.Start("sink.raw_ploomes.leads", []lineage.Dataset{rawLeads}, []lineage.Dataset{lakeLeads})
	r.Complete(lineage.Stats{Rows: 30, Bytes: 4096, Files: 1})
	r.Complete(lineage.Stats{Rows: 99}) // a second end is ignored
	f := em.Start("sink.raw_ploomes.leads", []lineage.Dataset{rawLeads}, []lineage.Dataset{lakeLeads})
	f.Fail(errors.New("commit table raw_ploomes.leads: catalog unreachable"))
	closeEmitter(t, em)

	reqs := rv.requests()
	if len(reqs) != 4 {
		t.Fatalf("got %d requests, want 4", len(reqs))
	}
	for i, q := range reqs {
		if q.method != http.MethodPost || q.path != "/api/v1/lineage" || q.contentType != "application/json" || q.auth != "Bearer s3cr3t" {
			t.Errorf("request %d: %s %s content-type %q authorization %q", i, q.method, q.path, q.contentType, q.auth)
		}
	}
	evs := rv.events()
	if got, want := types(evs), []lineage.EventType{lineage.Start, lineage.Complete, lineage.Start, lineage.Fail}; !slices.Equal(got, want) {
		t.Fatalf("event types %v, want %v", got, want)
	}
	start, done, fail := evs[0], evs[1], evs[3]
	if start.Run.RunID != done.Run.RunID || start.Run.RunID == evs[2].Run.RunID || len(start.Run.RunID) != 36 {
		t.Errorf("run ids %q %q %q: one per run, UUID text", start.Run.RunID, done.Run.RunID, evs[2].Run.RunID)
	}
	if start.SchemaURL != lineage.RunEventSchemaURL || start.Producer != lineage.DefaultProducer || start.EventTime.IsZero() {
		t.Errorf("header: schemaURL %q producer %q eventTime %v", start.SchemaURL, start.Producer, start.EventTime)
	}
	if start.Job.Namespace != "riacho-prod" || start.Job.Name != "sink.raw_ploomes.leads" {
		t.Errorf("job %+v", start.Job)
	}
	if jt := start.Job.Facets.JobType; jt == nil || jt.ProcessingType != "STREAMING" || jt.Integration != "RIACHO" || jt.JobType != "sink" {
		t.Errorf("jobType facet %+v", jt)
	}
	if pe := start.Run.Facets.ProcessingEngine; pe == nil || pe.Version != "1.2.3" || pe.Name != "riacho-sink" {
		t.Errorf("processing_engine facet %+v", pe)
	}
	if len(start.Inputs) != 1 || start.Inputs[0].Namespace != "kafka://kafka-0:9092" || start.Inputs[0].Name != "raw.ploomes.leads" {
		t.Errorf("inputs %+v", start.Inputs)
	}
	if len(done.Outputs) != 1 || done.Outputs[0].Namespace != "s3://lake/prod" || done.Outputs[0].Name != "raw_ploomes.leads" {
		t.Errorf("outputs %+v", done.Outputs)
	}
	if start.Outputs[0].OutputFacets != nil {
		t.Errorf("START carries output statistics: %+v", start.Outputs[0].OutputFacets)
	}
	st := done.Outputs[0].OutputFacets.OutputStatistics
	if st == nil || st.RowCount != 30 || st.Size != 4096 || st.FileCount != 1 || st.SchemaURL != lineage.OutputStatisticsFacetURL {
		t.Errorf("outputStatistics %+v", st)
	}
	em2 := fail.Run.Facets.ErrorMessage
	if em2 == nil || em2.Message != "commit table raw_ploomes.leads: catalog unreachable" || em2.ProgrammingLanguage != "GO" || em2.SchemaURL != lineage.ErrorMessageFacetURL {
		t.Errorf("errorMessage %+v", em2)
	}
	if strings.Contains(string(reqs[0].body), "pw@") {
		t.Errorf("lake credentials in the event: %s", reqs[0].body)
	}
	if got := value(t, reg, "riacho_lineage_events_sent_total"); got != 4 {
		t.Errorf("sent counter %v, want 4", got)
	}
}

// TestSpecFieldNames checks the raw JSON against the names the
// OpenLineage 2-0-2 schema requires (RunEvent, Run, Job, Dataset,
// BaseFacet and the outputStatistics and errorMessage facets).
func TestSpecFieldNames(t *testing.T) {
	rv := newReceiver(t)
	em := newEmitter(t, httpConfig(rv.url()), nil)
	em.Start("j", []lineage.Dataset{rawLeads}, []lineage.Dataset{lakeLeads}).Complete(lineage.Stats{Rows: 1})
	em.Start("j", nil, nil).Fail(errors.New("boom"))
	closeEmitter(t, em)
	reqs := rv.requests()
	if len(reqs) != 4 {
		t.Fatalf("got %d requests, want 4", len(reqs))
	}
	var complete, fail map[string]any
	if err := json.Unmarshal(reqs[1].body, &complete); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(reqs[3].body, &fail); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"eventType", "eventTime", "producer", "schemaURL", "run.runId", "job.namespace", "job.name",
		"job.facets.jobType._producer", "job.facets.jobType._schemaURL", "job.facets.jobType.processingType", "job.facets.jobType.integration",
		"inputs.0.namespace", "inputs.0.name", "outputs.0.namespace", "outputs.0.name",
		"outputs.0.outputFacets.outputStatistics.rowCount", "outputs.0.outputFacets.outputStatistics._producer",
		"outputs.0.outputFacets.outputStatistics._schemaURL",
	} {
		if lookup(complete, path) == nil {
			t.Errorf("COMPLETE has no %s: %s", path, reqs[1].body)
		}
	}
	for _, path := range []string{"run.facets.errorMessage.message", "run.facets.errorMessage.programmingLanguage",
		"run.facets.errorMessage._producer", "run.facets.errorMessage._schemaURL", "inputs", "outputs"} {
		if lookup(fail, path) == nil {
			t.Errorf("FAIL has no %s: %s", path, reqs[3].body)
		}
	}
	if ts, _ := complete["eventTime"].(string); !strings.HasSuffix(ts, "Z") {
		t.Errorf("eventTime %q is not UTC RFC 3339", ts)
	}
}

// lookup follows a dotted path through decoded JSON (numbers index arrays).
func lookup(v any, path string) any {
	for p := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := int(p[0] - '0')
			if len(p) != 1 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// TestHTTPRetriesServerErrors answers 503 twice, then 201: the event is
// delivered once, counted as sent, never as failed.
func TestHTTPRetriesServerErrors(t *testing.T) {
	rv := newReceiver(t)
	rv.status = func(n int) int {
		if n < 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusCreated
	}
	reg := prometheus.NewRegistry()
	em := newEmitter(t, httpConfig(rv.url()), reg)
	em.Start("j", nil, nil)
	closeEmitter(t, em)
	reqs := rv.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3 (two 503, then success)", len(reqs))
	}
	if !slices.Equal(reqs[0].body, reqs[2].body) {
		t.Error("the retry sent a different body")
	}
	if sent, failed := value(t, reg, "riacho_lineage_events_sent_total"), value(t, reg, "riacho_lineage_events_failed_total"); sent != 1 || failed != 0 {
		t.Errorf("sent %v failed %v, want 1 and 0", sent, failed)
	}
}

// TestHTTPClientErrorIsNotRetried counts a 400 as failed after one try,
// and gives up on a receiver that keeps answering 500 after the retries.
func TestHTTPClientErrorIsNotRetried(t *testing.T) {
	rv := newReceiver(t)
	rv.status = func(n int) int {
		if n == 0 {
			return http.StatusBadRequest
		}
		return http.StatusInternalServerError
	}
	cfg := httpConfig(rv.url())
	cfg.Retries = 2
	reg := prometheus.NewRegistry()
	em := newEmitter(t, cfg, reg)
	em.Start("j", nil, nil)
	em.Start("j", nil, nil)
	closeEmitter(t, em)
	if n := len(rv.requests()); n != 1+3 {
		t.Errorf("got %d requests, want 4 (one for the 400, three for the 500s)", n)
	}
	if sent, failed := value(t, reg, "riacho_lineage_events_sent_total"), value(t, reg, "riacho_lineage_events_failed_total"); sent != 0 || failed != 2 {
		t.Errorf("sent %v failed %v, want 0 and 2", sent, failed)
	}
}

// TestFullQueueDropsNewEvents holds the receiver on the first event: the
// queue fills, later events are dropped and counted, the emitter never
// blocks, and the queued ones are delivered once the receiver answers.
func TestFullQueueDropsNewEvents(t *testing.T) {
	rv := newReceiver(t)
	rv.block = make(chan struct{})
	cfg := httpConfig(rv.url())
	cfg.QueueSize = 3
	reg := prometheus.NewRegistry()
	em := newEmitter(t, cfg, reg)
	em.Start("first", nil, nil)
	<-rv.got // the sender holds the first event; the queue is empty
	for range 10 {
		em.Start("more", nil, nil)
	}
	if got := value(t, reg, "riacho_lineage_events_dropped_total"); got != 7 {
		t.Errorf("dropped %v, want 7 (10 emitted, 3 queued)", got)
	}
	if got := value(t, reg, "riacho_lineage_queue_events"); got != 3 {
		t.Errorf("queue gauge %v, want 3", got)
	}
	close(rv.block)
	closeEmitter(t, em)
	if n := len(rv.requests()); n != 4 {
		t.Errorf("receiver got %d events, want 4", n)
	}
	if got := value(t, reg, "riacho_lineage_events_sent_total"); got != 4 {
		t.Errorf("sent %v, want 4", got)
	}
	em.Start("after close", nil, nil)
	if got := value(t, reg, "riacho_lineage_events_dropped_total"); got != 8 {
		t.Errorf("an event after Close: dropped %v, want 8", got)
	}
}

// TestCloseGivesUpWhenReceiverStuck bounds the flush by Close's context:
// the stuck event and the queued ones are counted as failed.
func TestCloseGivesUpWhenReceiverStuck(t *testing.T) {
	rv := newReceiver(t)
	rv.block = make(chan struct{})
	t.Cleanup(func() { close(rv.block) })
	reg := prometheus.NewRegistry()
	em := newEmitter(t, httpConfig(rv.url()), reg)
	em.Start("a", nil, nil)
	<-rv.got
	em.Start("b", nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := em.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a done context: %v, want context.Canceled", err)
	}
	if got := value(t, reg, "riacho_lineage_events_failed_total"); got != 2 {
		t.Errorf("failed %v, want 2", got)
	}
}

// TestDisabled is the zero-cost path: no URL and no topic give a nil
// emitter whose runs and windows do nothing and allocate nothing.
func TestDisabled(t *testing.T) {
	em, err := lineage.New(lineage.DefaultConfig(), lineage.Options{Registerer: prometheus.NewRegistry()})
	if err != nil || em != nil {
		t.Fatalf("New(disabled) = %v, %v; want nil, nil", em, err)
	}
	in, out := []lineage.Dataset{rawLeads}, []lineage.Dataset{lakeLeads}
	stats := lineage.Stats{Rows: 1}
	boom := errors.New("boom")
	w := em.Window("j", in, out, time.Minute)
	allocs := testing.AllocsPerRun(100, func() {
		em.Start("j", in, out).Complete(stats)
		em.Start("j", in, out).Fail(boom)
		em.Start("j", in, out).Abort()
		em.Emit(lineage.RunEvent{})
		w.Add(stats)
		w.Complete()
		w.Fail(boom)
	})
	if allocs != 0 {
		t.Errorf("disabled lineage allocates %v times per unit of work", allocs)
	}
	if w != nil || em.Interval() != 0 || em.Namespace() != "" || em.Close(context.Background()) != nil {
		t.Error("a disabled emitter reports a window, interval, namespace or close error")
	}
}

// value sums every series of the metric name in reg.
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return sum
	}
	t.Fatalf("metric %s is not registered", name)
	return 0
}
