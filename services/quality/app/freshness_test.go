package app

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// TestStaleSourceIsAlertedToTheCriticalChannel writes a WhatsApp raw record
// an hour old (the SLA is 5 minutes) and a fresh Ploomes one: the service
// must alert the WhatsApp breach, once, to the critical Slack channel.
func TestStaleSourceIsAlertedToTheCriticalChannel(t *testing.T) {
	kc, registryURL := startBroker(t)
	srv := struct{ URL string }{registryURL}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	critical := &receiver{}
	hook := httptest.NewServer(critical)
	t.Cleanup(hook.Close)
	kc.CreateTopic(t, "raw.whatsapp.messages", 1)
	kc.CreateTopic(t, "raw.ploomes.deals", 1)
	prod, err := kafka.NewProducer(kc.Config(), kafka.ProducerOptions{Linger: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	if err := prod.ProduceAll(ctx, []*kgo.Record{
		{Topic: "raw.whatsapp.messages", Value: []byte("old"), Timestamp: time.Now().Add(-time.Hour)},
		{Topic: "raw.ploomes.deals", Value: []byte("new"), Timestamp: time.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	svc := startService(t, kc.Addrs()[0], srv.URL, "RIACHO_QUALITY_FRESHNESS_INTERVAL=1s", "RIACHO_QUALITY_SLACK_CRITICAL_URL="+hook.URL)
	waitFor(t, "the freshness alert", func() bool { return len(critical.got()) > 0 })
	time.Sleep(2500 * time.Millisecond) // two more checks: the breach must not be alerted again
	got := critical.got()
	if len(got) != 1 {
		t.Fatalf("%d alerts, want 1: %v", len(got), got)
	}
	var slack struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(got[0]), &slack); err != nil || !strings.Contains(slack.Text, "whatsapp") || strings.Contains(slack.Text, "ploomes") {
		t.Errorf("alert %s (%v)", got[0], err)
	}
	if b := svc.fresh.Breached(); len(b) != 1 || b[0] != "whatsapp" {
		t.Errorf("breached sources %v, want [whatsapp]", b)
	}
	resp := &controlv1.StatusResponse{}
	svc.status(ctx, resp)
	fresh := map[string]*controlv1.Freshness{}
	for _, f := range resp.GetFreshness() {
		fresh[f.GetName()] = f
	}
	if f := fresh["whatsapp"]; f == nil || !f.GetBreached() || f.GetSla().AsDuration() != 5*time.Minute || f.GetAge().AsDuration() < time.Hour {
		t.Errorf("status freshness of whatsapp = %v, want breached, SLA 5m, age over an hour", f)
	}
	if f := fresh["ploomes"]; f == nil || f.GetBreached() || f.GetNewest() == nil || f.GetScope() != "source" {
		t.Errorf("status freshness of ploomes = %v, want a fresh source", f)
	}
}
