package lineage_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/kafka/kafkatest"
	"github.com/riacho/riacho/libs/lineage"
)

// TestKafkaTransport produces events to a topic the emitter creates on a
// kfake broker over TCP: they land keyed by job name, as strict JSON run
// events, in order.
func TestKafkaTransport(t *testing.T) {
	kc := kafkatest.NewCluster(t)
	cfg := lineage.DefaultConfig()
	cfg.Topic = "_lineage"
	reg := prometheus.NewRegistry()
	em, err := lineage.New(cfg, lineage.Options{Service: "transform", Kafka: kc.Config(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	r := em.Start("transform.stg_leads", []lineage.Dataset{rawLeads}, []lineage.Dataset{curated})
	r.Complete(lineage.Stats{Rows: 12})
	closeEmitter(t, em)

	recs := kc.Consume(t, "_lineage", 2, 30*time.Second)
	var got []lineage.EventType
	for _, rec := range recs {
		if string(rec.Key) != "transform.stg_leads" {
			t.Errorf("record key %q, want the job name", rec.Key)
		}
		var ev lineage.RunEvent
		if err := strictJSON(rec.Value, &ev); err != nil {
			t.Fatalf("record value: %v\n%s", err, rec.Value)
		}
		if ev.Run.RunID != r.ID() {
			t.Errorf("run id %q, want %q", ev.Run.RunID, r.ID())
		}
		got = append(got, ev.EventType)
	}
	if len(got) != 2 || got[0] != lineage.Start || got[1] != lineage.Complete {
		t.Errorf("event types %v, want [START COMPLETE]", got)
	}
	if sent := value(t, reg, "riacho_lineage_events_sent_total"); sent != 2 {
		t.Errorf("sent %v, want 2", sent)
	}
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
