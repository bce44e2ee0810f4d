package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/lineage/lineagetest"
)

const leadsModel = "stg_ploomes_leads"

// produceLeads writes three staging leads, one with a bad e-mail.
func produceLeads(t *testing.T, kc *kafkatest.Cluster, registryURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kc.CreateTopic(t, "staging."+leadsModel, 1)
	rc, err := avro.NewClient(avro.RegistryConfig{URL: registryURL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	enc, err := avro.NewSerde(rc).Encoder(ctx, "staging."+leadsModel+"-value", leadSchema)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kafka.NewProducer(kc.Config(), kafka.ProducerOptions{Linger: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var recs []*kgo.Record
	for i, email := range []string{"ana@exemplo.com.br", "bruno-at-exemplo", "carla@x.com"} {
		v, err := enc.Encode(map[string]any{"lead_id": map[string]any{"long": int64(i + 1)}, "email": map[string]any{"string": email}, "status_ptbr": nil})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "staging." + leadsModel, Key: []byte{byte('1' + i)}, Value: v})
	}
	if err := prod.ProduceAll(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// TestLineageRunPerWindow runs the gate with RIACHO_LINEAGE_URL at a
// receiver: the validation window is one run, START then COMPLETE, reading
// the staging topic and writing curated (2 records) and quarantine (1).
func TestLineageRunPerWindow(t *testing.T) {
	kc, registryURL := startBroker(t)
	produceLeads(t, kc, registryURL)
	rv := lineagetest.NewReceiver(t)
	startService(t, kc.Addrs()[0], registryURL, "RIACHO_QUALITY_WINDOW=1s", "RIACHO_LINEAGE_URL="+rv.URL())

	job := "quality." + leadsModel
	evs := rv.Wait(60*time.Second, "COMPLETE of "+job, func(evs []lineage.RunEvent) bool {
		got := lineagetest.OfJob(evs, job)
		return len(got) >= 2 && got[1].EventType == lineage.Complete
	})
	got := lineagetest.OfJob(evs, job)
	if got[0].EventType != lineage.Start || got[0].Run.RunID != got[1].Run.RunID {
		t.Fatalf("want START then COMPLETE of one run; got %s", lineagetest.Describe(got))
	}
	ns := "kafka://" + kc.Addrs()[0]
	done := got[1]
	if len(done.Inputs) != 1 || done.Inputs[0].Namespace != ns || done.Inputs[0].Name != "staging."+leadsModel {
		t.Errorf("inputs %+v", done.Inputs)
	}
	want := []struct {
		name string
		rows int64
	}{{"curated." + leadsModel, 2}, {"quarantine." + leadsModel, 1}}
	if len(done.Outputs) != len(want) {
		t.Fatalf("outputs %+v", done.Outputs)
	}
	for i, w := range want {
		o := done.Outputs[i]
		if o.Namespace != ns || o.Name != w.name || o.OutputFacets.OutputStatistics.RowCount != w.rows {
			t.Errorf("output %d: %s %s rows %d, want %s rows %d", i, o.Namespace, o.Name, o.OutputFacets.OutputStatistics.RowCount, w.name, w.rows)
		}
	}
}

// TestLineageFailWhenValidationCannotRun points the service at a schema
// registry that is gone: the gate cannot register the curated subjects, its
// loop fails, and the run is FAIL with the error.
func TestLineageFailWhenValidationCannotRun(t *testing.T) {
	kc, registryURL := startBroker(t)
	produceLeads(t, kc, registryURL)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	rv := lineagetest.NewReceiver(t)
	startService(t, kc.Addrs()[0], gone.URL, "RIACHO_LINEAGE_URL="+rv.URL())

	job := "quality." + leadsModel
	evs := rv.Wait(60*time.Second, "FAIL of "+job, func(evs []lineage.RunEvent) bool {
		got := lineagetest.OfJob(evs, job)
		return len(got) >= 2 && got[1].EventType == lineage.Fail
	})
	got := lineagetest.OfJob(evs, job)
	if got[0].EventType != lineage.Start || got[0].Run.RunID != got[1].Run.RunID {
		t.Errorf("want START then FAIL of one run; got %s", lineagetest.Describe(got))
	}
	if f := got[1].Run.Facets; f == nil || f.ErrorMessage == nil || f.ErrorMessage.Message == "" {
		t.Errorf("FAIL without an errorMessage facet: %+v", got[1].Run)
	}
}
