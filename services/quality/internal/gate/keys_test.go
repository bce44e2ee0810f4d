package gate

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/quality/internal/expect"
	"github.com/riacho/riacho/services/quality/internal/suite"
)

const accountSchema = `{"type":"record","name":"stg_accounts","namespace":"riacho.staging","fields":[{"name":"id","type":["null","long"],"default":null}]}`

// TestRelationshipsReadTheOtherCuratedTopic gates two models: the dbt
// relationships test of the leads checks lead_id against the keys the gate
// curated for stg_accounts.
func TestRelationshipsReadTheOtherCuratedTopic(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, stagingTopic(model), 1)
	h.kc.CreateTopic(t, stagingTopic("stg_accounts"), 1)
	accounts := &suite.Suite{Name: "accounts", Model: "stg_accounts", File: "test"}
	nn, err := expect.Compile(expect.Config{Type: "expect_column_values_to_not_be_null", Kwargs: map[string]any{"column": "id"}})
	if err != nil {
		t.Fatal(err)
	}
	accounts.Expectations = append(accounts.Expectations, nn)
	leads := compile(t, "dbt:stg_ploomes_leads", expect.Config{Type: expect.RelationshipType,
		Kwargs: map[string]any{"column": "lead_id", "to_model": "stg_accounts", "field": "id"}})
	r := h.start(testConfig(), accounts, leads)

	enc, err := h.serde.Encoder(context.Background(), stagingTopic("stg_accounts")+"-value", accountSchema)
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for id := int64(1); id <= 3; id++ {
		v, err := enc.Encode(map[string]any{"id": map[string]any{"long": id}})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: stagingTopic("stg_accounts"), Value: v})
	}
	h.produceRaw(recs...)
	h.readCommitted(curatedTopic("stg_accounts"), 3, time.Minute)
	deadline := time.Now().Add(time.Minute)
	for r.g.keys.size("stg_accounts.id") < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the accounts' keys were not followed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.produce(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		lead(1, "a@x.com", "Convertido"), lead(2, "b@x.com", "Convertido"), lead(7, "c@x.com", "Convertido"))
	res := h.readCommitted("quality.results", 1, time.Minute)
	var got struct {
		Success bool `json:"success"`
		Results []struct {
			Result struct {
				UnexpectedCount int   `json:"unexpected_count"`
				Partial         []any `json:"partial_unexpected_list"`
			} `json:"result"`
			ExceptionInfo struct {
				Raised bool `json:"raised_exception"`
			} `json:"exception_info"`
		} `json:"results"`
	}
	for _, rec := range res {
		if string(rec.Key) != model {
			continue
		}
		if err := json.Unmarshal(rec.Value, &got); err != nil {
			t.Fatal(err)
		}
	}
	if len(got.Results) != 1 || got.Success || got.Results[0].ExceptionInfo.Raised || got.Results[0].Result.UnexpectedCount != 1 ||
		len(got.Results[0].Result.Partial) != 1 || got.Results[0].Result.Partial[0] != float64(7) {
		t.Errorf("relationships result %+v", got)
	}
}
