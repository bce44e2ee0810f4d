package gate

import (
	"encoding/json"
	"testing"
	"time"
)

// TestOpenWindowSurvivesARestart keeps a window open (the clock is held
// inside it), restarts the gate, and closes the window with a record of the
// next one: the single result counts the rows from before and after the
// restart, and no result was published twice.
func TestOpenWindowSurvivesARestart(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, stagingTopic(model), 1)
	s := compile(t, "leads_quality", seedEmail)
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return start.Add(30 * time.Second) }
	cfg := testConfig()
	startGate := func() *running {
		return h.startAt(clock, cfg, s)
	}
	h.produce(start.Add(time.Second), lead(1, "a@x.com", "Convertido"), lead(2, "bad", "Perdido"))
	r := startGate()
	h.readCommitted(curatedTopic(model), 1, time.Minute)
	h.readCommitted(quarantineTopic(model), 1, time.Minute)
	r.stop()
	<-r.done

	h.produce(start.Add(2*time.Second), lead(3, "c@x.com", "Convertido"))
	startGate()
	h.produce(start.Add(time.Minute+time.Second), lead(4, "d@x.com", "Convertido")) // the next window
	res := h.readCommitted("quality.results", 1, time.Minute)
	var got struct {
		Meta struct {
			Riacho ResultMeta `json:"riacho"`
		} `json:"meta"`
		Results []struct {
			Result struct {
				ElementCount    int `json:"element_count"`
				UnexpectedCount int `json:"unexpected_count"`
			} `json:"result"`
		} `json:"results"`
	}
	if err := json.Unmarshal(res[0].Value, &got); err != nil {
		t.Fatal(err)
	}
	if m := got.Meta.Riacho; m.Records != 3 || !m.WindowStart.Equal(start) {
		t.Errorf("window result meta %+v, want 3 records from %s", m, start)
	}
	if r := got.Results[0].Result; r.ElementCount != 3 || r.UnexpectedCount != 1 {
		t.Errorf("regex over the window: %+v, want 3 elements, 1 unexpected", r)
	}
	if n := len(h.readAllCommitted("quality.results")); n != 1 {
		t.Errorf("%d window results, want 1", n)
	}
}
