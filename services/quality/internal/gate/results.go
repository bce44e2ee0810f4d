package gate

import (
	"encoding/json"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// ResultMeta is what the gate adds to a suite result's meta.
type ResultMeta struct {
	Suite       string    `json:"expectation_suite_name"`
	Model       string    `json:"riacho_model"`
	Topic       string    `json:"riacho_topic"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Records     int       `json:"records"`
}

type suiteResult struct {
	name   string
	result expect.SuiteResult
}

// windowResult is a closed window: its suite results and their records.
type windowResult struct {
	suites  []suiteResult
	records []*kgo.Record
}

// close validates every suite of the model over the window.
func (r *runner) close(w *window) windowResult {
	var wr windowResult
	b := w.batch()
	for _, s := range r.t.suites {
		var res expect.SuiteResult
		r.g.keys.lookup(func(l map[string]map[string]bool) {
			b.Lookup = l
			res = expect.Validate(s.Name, s.Expectations, b)
		})
		meta := ResultMeta{Suite: s.Name, Model: r.t.name, Topic: stagingTopic(r.t.name), WindowStart: w.start, WindowEnd: w.end(), Records: len(w.rows)}
		if res.Meta == nil {
			res.Meta = map[string]any{}
		}
		res.Meta["expectation_suite_name"] = meta.Suite
		res.Meta["riacho"] = meta
		body, err := json.Marshal(res)
		if err != nil {
			r.log.Error("window result does not encode", "suite", s.Name, "error", err)
			continue
		}
		wr.suites = append(wr.suites, suiteResult{name: s.Name, result: res})
		wr.records = append(wr.records, &kgo.Record{
			Topic: r.g.cfg.ResultsTopic, Key: []byte(r.t.name), Value: body, Timestamp: w.end(),
			Headers: []kgo.RecordHeader{
				{Key: HeaderModel, Value: []byte(r.t.name)},
				{Key: "riacho-suite", Value: []byte(s.Name)},
				{Key: "riacho-window-start", Value: []byte(w.start.Format(time.RFC3339Nano))},
			},
		})
	}
	return wr
}
