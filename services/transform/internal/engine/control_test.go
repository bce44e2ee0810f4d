package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/transform/internal/mask"
)

func TestPauseAndResumeOneModel(t *testing.T) {
	h := newHarness(t)
	h.kc.CreateTopic(t, leadsTopic, 1)
	enc := h.encoder(leadsTopic, leadSchema)
	p := seedProject(t, map[string]string{
		"models/marts/won_leads.sql": "{{ config(unique_key='lead_id') }}\nSELECT lead_id FROM {{ ref('stg_ploomes_leads') }} WHERE status_ptbr = 'Convertido'\n",
	})
	r := h.start(testConfig(), p)
	h.produce(leadsTopic, enc, []string{"1"}, []map[string]any{lead(1, "a@x", nil, day, "Won")})
	h.readCommitted("staging.won_leads", 1, time.Minute)

	if err := r.e.Pause("won_leads"); err != nil {
		t.Fatal(err)
	}
	if err := r.e.Pause("nope"); err == nil || !strings.Contains(err.Error(), "unknown model") {
		t.Errorf("pausing an unknown model: %v", err)
	}
	h.produce(leadsTopic, enc, []string{"2"}, []map[string]any{lead(2, "b@x", nil, day, "Won")})
	// The upstream model goes on; the paused one holds its input.
	h.readCommitted("staging.stg_ploomes_leads", 2, time.Minute)
	// The paused model's input waits: its lag grows past the single
	// transaction marker a caught-up model leaves, and it reads nothing.
	var st ModelStatus
	waitFor(t, 30*time.Second, "the paused model's lag", func() bool {
		st = r.e.Status(context.Background(), true)[1]
		return st.Name == "won_leads" && st.LagTotal >= 2
	})
	time.Sleep(time.Second)
	if st = r.e.Status(context.Background(), true)[1]; !st.Paused || st.In != 1 || st.Out != 1 {
		t.Fatalf("paused model: paused %v, %d read, %d produced; want true, 1, 1", st.Paused, st.In, st.Out)
	}
	if err := r.e.Resume("won_leads"); err != nil {
		t.Fatal(err)
	}
	out := h.readCommitted("staging.won_leads", 2, time.Minute)
	if got := strings.Join(sortedKeys(out), ","); got != "1,2" {
		t.Errorf("won_leads keys %s after resume, want 1,2", got)
	}
}

func TestReplayFromOffsetAndTime(t *testing.T) {
	t.Run("without de-duplication every row is emitted again", func(t *testing.T) {
		h := newHarness(t)
		h.kc.CreateTopic(t, leadsTopic, 1)
		enc := h.encoder(leadsTopic, leadSchema)
		keys, vals := seedLeads()
		h.produce(leadsTopic, enc, keys, vals)
		p := seedProject(t, nil)
		p.Models["stg_ploomes_leads"].Config.DedupeWindow = 0
		r := h.start(testConfig(), p)
		h.readCommitted("staging.stg_ploomes_leads", 4, time.Minute)
		set, err := r.e.Replay(context.Background(), "stg_ploomes_leads", ReplayFrom{Offset: 3})
		if err != nil {
			t.Fatal(err)
		}
		if set[0] != 3 {
			t.Errorf("replay set offsets %v, want partition 0 at 3", set)
		}
		out := h.readCommitted("staging.stg_ploomes_leads", 6, time.Minute)
		if got := strings.Join(sortedKeys(out), ","); got != "1,2,4,4,5,5" {
			t.Errorf("keys after replaying from offset 3: %s, want 1,2,4,4,5,5", got)
		}
	})
	t.Run("with de-duplication a replay emits only what changed", func(t *testing.T) {
		h := newHarness(t)
		h.kc.CreateTopic(t, leadsTopic, 1)
		enc := h.encoder(leadsTopic, leadSchema)
		keys, vals := seedLeads()
		h.produce(leadsTopic, enc, keys, vals)
		r := h.start(testConfig(), seedProject(t, nil))
		h.readCommitted("staging.stg_ploomes_leads", 4, time.Minute)
		if _, err := r.e.Replay(context.Background(), "stg_ploomes_leads", ReplayFrom{Time: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		h.produce(leadsTopic, enc, []string{"7"}, []map[string]any{lead(7, "g@x", nil, day, "Won")})
		out := h.readCommitted("staging.stg_ploomes_leads", 5, time.Minute)
		if got := strings.Join(sortedKeys(out), ","); got != "1,2,4,5,7" {
			t.Errorf("keys after replay: %s, want 1,2,4,5,7", got)
		}
		if st := r.e.Status(context.Background(), false)[0]; st.Duplicates != 4 {
			t.Errorf("%d duplicates dropped by the replay, want 4", st.Duplicates)
		}
	})
}

func TestMaskingPolicies(t *testing.T) {
	key := []byte("0123456789abcdef-demo")
	project := map[string]string{"models/staging/pii.yml": `version: 2
models:
  - name: leads_pii
    config:
      unique_key: lead_id
      masking:
        email: hash
        phone: {policy: keep_last, n: 4}
        status: redact
`, "models/staging/leads_pii.sql": "SELECT lead_id, email, phone, status FROM {{ source('ploomes', 'leads') }}\n",
		"models/sources.yml": seedSources}
	for _, masking := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[masking], func(t *testing.T) {
			h := newHarness(t)
			h.kc.CreateTopic(t, leadsTopic, 1)
			enc := h.encoder(leadsTopic, leadSchema)
			h.produce(leadsTopic, enc, []string{"1", "2"}, []map[string]any{
				lead(1, "ana@example.com", "+5511999990001", day, "Won"), lead(2, nil, nil, day, "Lost"),
			})
			cfg := testConfig()
			cfg.Masking, cfg.MaskKey = masking, key
			h.start(cfg, loadProject(t, project))
			out := h.readCommitted("staging.leads_pii", 2, time.Minute)
			byKey := map[string]map[string]any{}
			for _, rec := range out {
				byKey[string(rec.Key)] = h.decode(rec)
			}
			v1, v2 := byKey["1"], byKey["2"]
			m := mask.NewMasker(key)
			want := map[string]any{"email": "ana@example.com", "phone": "+5511999990001", "status": "Won"}
			if masking {
				want = map[string]any{
					"email":  m.Apply(mask.Policy{Kind: "hash"}, "ana@example.com"),
					"phone":  "**********0001",
					"status": m.Apply(mask.Policy{Kind: "redact"}, "Won"),
				}
				if want["email"] == "ana@example.com" || want["status"] == "Won" {
					t.Fatalf("the masker does not mask: %v", want)
				}
			}
			for col, w := range want {
				if got := unwrap(v1[col]); got != w {
					t.Errorf("%s = %v, want %v", col, got, w)
				}
			}
			if unwrap(v2["email"]) != nil || unwrap(v2["phone"]) != nil {
				t.Errorf("nulls must stay null: %v", v2)
			}
		})
	}
}
