package gate

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/quality/internal/expect"
)

// TestGateRoutesRecordsAndPublishesWindowResults runs the seed's email
// expectation with a few more: passing records go to curated, failing ones
// to quarantine with every failed expectation and value in headers, and the
// closed window's GE validation result goes to quality.results.
func TestGateRoutesRecordsAndPublishesWindowResults(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, stagingTopic(model), 1)
	s := compile(t, "leads_quality", seedEmail,
		expect.Config{Type: "expect_column_values_to_not_be_null", Kwargs: map[string]any{"column": "email"}},
		expect.Config{Type: "expect_column_values_to_be_in_set", Kwargs: map[string]any{"column": "status_ptbr",
			"value_set": []any{"Convertido", "Perdido", "Em Andamento"}}},
		expect.Config{Type: "expect_column_values_to_be_unique", Kwargs: map[string]any{"column": "lead_id"}},
		expect.Config{Type: "expect_table_row_count_to_be_between", Kwargs: map[string]any{"min_value": 1, "max_value": 100}},
	)
	window := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	h.produce(window.Add(10*time.Second),
		lead(1, "ana@exemplo.com.br", "Convertido"),
		lead(2, "not-an-email", "Perdido"),
		lead(3, "", "Em Andamento"),     // null e-mail: fails not_null only
		lead(4, "bruno@x.com", "Ganho"), // not in the set
		lead(5, "carla@x.com.br", "Em Andamento"),
	)
	h.start(testConfig(), s)

	curated := h.readCommitted(curatedTopic(model), 2, time.Minute)
	var keys []string
	for _, r := range curated {
		keys = append(keys, string(r.Key))
	}
	sort.Strings(keys)
	if got := strings.Join(keys, ","); got != "1,5" {
		t.Errorf("curated keys %s", got)
	}
	quarantined := h.readCommitted(quarantineTopic(model), 3, time.Minute)
	want := map[string]string{
		"2": "expect_column_values_to_match_regex",
		"3": "expect_column_values_to_not_be_null",
		"4": "expect_column_values_to_be_in_set",
	}
	for _, r := range quarantined {
		exps := header(r, HeaderExpectation)
		if len(exps) != 1 || exps[0] != want[string(r.Key)] {
			t.Errorf("quarantined %s: expectations %v, want [%s]", r.Key, exps, want[string(r.Key)])
		}
		var fails []Failure
		if err := json.Unmarshal([]byte(header(r, HeaderFailed)[0]), &fails); err != nil || len(fails) != 1 || fails[0].Suite != "leads_quality" {
			t.Errorf("quarantined %s: %s header %v (%v)", r.Key, HeaderFailed, fails, err)
		}
		if string(r.Key) == "2" && fails[0].Value != "not-an-email" {
			t.Errorf("the offending value of lead 2 is %v", fails[0].Value)
		}
	}

	res := h.readCommitted("quality.results", 1, time.Minute)
	var got struct {
		Success    bool `json:"success"`
		Statistics struct {
			Evaluated  int `json:"evaluated_expectations"`
			Successful int `json:"successful_expectations"`
		} `json:"statistics"`
		Results []struct {
			Success bool `json:"success"`
			Config  struct {
				Type string `json:"expectation_type"`
			} `json:"expectation_config"`
			Result struct {
				ElementCount      int      `json:"element_count"`
				UnexpectedCount   int      `json:"unexpected_count"`
				UnexpectedPercent *float64 `json:"unexpected_percent"`
				Partial           []any    `json:"partial_unexpected_list"`
			} `json:"result"`
		} `json:"results"`
		Meta map[string]any `json:"meta"`
	}
	if err := json.Unmarshal(res[0].Value, &got); err != nil {
		t.Fatalf("result %s: %v", res[0].Value, err)
	}
	if got.Success || got.Statistics.Evaluated != 5 || got.Statistics.Successful != 2 {
		t.Errorf("suite result: success %v, %d evaluated, %d successful; want false, 5, 2\n%s", got.Success, got.Statistics.Evaluated, got.Statistics.Successful, res[0].Value)
	}
	for _, r := range got.Results {
		if r.Config.Type == "expect_column_values_to_match_regex" {
			// 4 non-null e-mails, one unexpected: 25% over non-null values.
			if r.Success || r.Result.ElementCount != 5 || r.Result.UnexpectedCount != 1 || r.Result.UnexpectedPercent == nil || *r.Result.UnexpectedPercent != 25 {
				t.Errorf("regex result %+v", r)
			}
		}
	}
	if m, _ := got.Meta["riacho"].(map[string]any); m["window_start"] != "2026-11-26T12:00:00Z" || m["records"] != float64(5) {
		t.Errorf("result meta %v", got.Meta)
	}
}
