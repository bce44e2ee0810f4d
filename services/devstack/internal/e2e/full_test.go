package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/devstack/internal/demo"
)

// fullRounds is how many rounds of traffic the full run posts.
const fullRounds = 300

// emailRegex is the seed's e-mail expectation on stg_ploomes_leads.
var emailRegex = regexp.MustCompile(`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`)

// contacts are the deal contacts of the full run: the accented ones fail
// the seed's ASCII-only e-mail regex and are quarantined.
var contacts = []string{"ana.silva", "joão.santos", "maria.lima", "luíza.araújo", "pedro.souza", "conceição.ribeiro", "tiago.pereira"}

// fullTraffic is what the full run posted, counted per destination.
type fullTraffic struct {
	raw         map[string]int // topic → records
	deals       []deal
	leads       int // deals with an e-mail: rows of stg_ploomes_leads
	quarantined int // leads whose e-mail fails the regex
	mrr         mrr
}

// TestEndToEndFull posts a few hundred events across every demo source
// (WhatsApp, Ploomes, Meta Lead Ads, the web shop's events API and a pt-BR
// spreadsheet upload) and checks the counts at every stage: each raw
// topic, the lake's Parquet files and Iceberg tables, staging, curated and
// quarantine (read_committed), and mrr over gRPC equal to the sum of the
// won deals. It runs only with RIACHO_E2E_FULL=1 (make e2e).
func TestEndToEndFull(t *testing.T) {
	if os.Getenv("RIACHO_E2E_FULL") != "1" {
		t.Skip("set RIACHO_E2E_FULL=1 to run the full end-to-end test (make e2e)")
	}
	h := startTB(t, stackOptions(t, t.TempDir()), []string{rotate})
	ctx := context.Background()
	category := fmt.Sprintf("e2e-full-%d", time.Now().UnixNano())
	sent := postFullTraffic(t, h, category)
	t.Logf("posted %v; %d deals, %d leads, %d to quarantine", sent.raw, len(sent.deals), sent.leads, sent.quarantined)

	t.Run("raw topics", func(t *testing.T) {
		topics := make([]string, 0, len(sent.raw))
		for topic := range sent.raw {
			topics = append(topics, topic)
		}
		got, err := h.endOffsets(ctx, topics...)
		if err != nil {
			t.Fatal(err)
		}
		for topic, want := range sent.raw {
			if got[topic] != int64(want) {
				t.Errorf("%s has %d records, want %d", topic, got[topic], want)
			}
		}
	})
	t.Run("lake", func(t *testing.T) { checkLakeCounts(t, h, sent.raw) })
	counts := []struct {
		topic string
		want  int
	}{
		{"staging.fct_subscriptions", len(sent.deals)},
		{"curated.fct_subscriptions", len(sent.deals)},
		{"staging.stg_ploomes_leads", sent.leads},
		{"curated.stg_ploomes_leads", sent.leads - sent.quarantined},
		{"quarantine.stg_ploomes_leads", sent.quarantined},
	}
	for _, c := range counts {
		t.Run(c.topic, func(t *testing.T) {
			if got := h.count(t, c.topic, c.want); got != c.want {
				t.Errorf("%s has %d committed records, want %d", c.topic, got, c.want)
			}
		})
	}
	t.Run("quarantine.fct_subscriptions", func(t *testing.T) {
		if n, err := h.endOffsets(ctx, "quarantine.fct_subscriptions"); err != nil || n["quarantine.fct_subscriptions"] != 0 {
			t.Errorf("quarantine.fct_subscriptions: %v %v, want no records (every deal is valid)", n, err)
		}
	})
	t.Run("mrr", func(t *testing.T) { checkMRR(t, h, category, sent.mrr) })
}

// postFullTraffic posts fullRounds rounds in the demo generator's rhythm,
// with deals of its own (unique ids in category) so every count is known.
func postFullTraffic(t *testing.T, h *harness, category string) fullTraffic {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(42, 7)) //nolint:gosec // test data
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 15, 12, 0, 0, 0, time.UTC)
	shopToken, sheetToken := h.sourceToken("shop"), h.sourceToken("planilhas")
	sent := fullTraffic{raw: map[string]int{}, mrr: mrr{}}
	post := func(what string, a answer, err error) { accepted(t, what, a, err) }
	for i := 1; i <= fullRounds; i++ {
		wa := demo.WhatsAppNotification(rnd, time.Now())
		a, err := h.postWhatsApp(ctx, wa, h.env["RIACHO_WHATSAPP_APP_SECRET"])
		post("WhatsApp round "+strconv.Itoa(i), a, err)
		countWhatsApp(t, wa, sent.raw)
		if i%3 == 0 {
			d := fullDeal(rnd, int64(i), category, month.Add(time.Duration(i)*time.Second))
			a, err := h.postPloomes(ctx, d.body(), h.env["RIACHO_PLOOMES_VALIDATION_KEY"])
			post(fmt.Sprintf("deal %d", d.ID), a, err)
			sent.note(d)
		}
		if i%5 == 0 {
			body := demo.MetaLead(rnd, time.Now())
			a, err := h.post(ctx, "/webhooks/meta", body, map[string]string{
				"Content-Type": "application/json", "X-Hub-Signature-256": demo.Sign(h.env["RIACHO_META_APP_SECRET"], body),
			})
			post("Meta lead round "+strconv.Itoa(i), a, err)
			sent.raw["raw.meta.leads"]++
		}
		if i%4 == 0 {
			a, err := h.post(ctx, "/v1/events/shop/orders", demo.ShopOrder(rnd, time.Now()), map[string]string{
				"Content-Type": "application/json", "Authorization": "Bearer " + shopToken,
				"Idempotency-Key": fmt.Sprintf("e2e-order-%d-%d", now.UnixNano(), i),
			})
			post("shop order round "+strconv.Itoa(i), a, err)
			sent.raw["raw.shop.orders"]++
		}
		if i%60 == 1 {
			a, err := h.post(ctx, "/v1/uploads/planilhas/clientes?filename=clientes.csv&columns=limite_credito:decimal,data_cadastro:date",
				demo.SpreadsheetCSV(rnd), map[string]string{"Content-Type": "text/csv", "Authorization": "Bearer " + sheetToken})
			post("spreadsheet round "+strconv.Itoa(i), a, err)
			sent.raw["raw.planilhas.clientes"] += 20
		}
	}
	return sent
}

// fullDeal is a deal with a unique id, a random status and an amount that
// divides by 12 centavos.
func fullDeal(rnd *rand.Rand, n int64, category string, at time.Time) deal {
	d := deal{ID: 600_000_000 + n, StatusID: []int{1, 1, 2, 3}[rnd.IntN(4)], Cents: 12 * rnd.Int64N(400_000), Category: category, At: at}
	if rnd.IntN(10) > 0 {
		d.Email = contacts[rnd.IntN(len(contacts))] + "@exemplo.com.br"
	}
	return d
}

// note counts a posted deal everywhere it should land.
func (f *fullTraffic) note(d deal) {
	f.raw["raw.ploomes.deals"]++
	f.deals = append(f.deals, d)
	if d.Email != "" {
		f.leads++
		if !emailRegex.MatchString(strings.ToLower(strings.TrimSpace(d.Email))) {
			f.quarantined++
		}
	}
	if d.StatusID == 2 {
		f.mrr[cell(d.At, d.segment())] += d.monthlyCents()
	}
}

// countWhatsApp counts a notification's messages and statuses.
func countWhatsApp(t *testing.T, body []byte, raw map[string]int) {
	t.Helper()
	var n struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []json.RawMessage `json:"messages"`
					Statuses []json.RawMessage `json:"statuses"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatalf("the demo's WhatsApp notification: %v", err)
	}
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			raw["raw.whatsapp.messages"] += len(c.Value.Messages)
			raw["raw.whatsapp.statuses"] += len(c.Value.Statuses)
		}
	}
}

// checkLakeCounts waits until each raw topic's records are all in its
// Parquet files and its Iceberg table.
func checkLakeCounts(t *testing.T, h *harness, raw map[string]int) {
	for topic, want := range raw {
		parts := strings.Split(topic, ".") // raw.<source>.<entity>
		source, entity := parts[1], parts[2]
		table := "raw_" + source + "." + entity
		deadline := time.Now().Add(stepTimeout)
		for {
			files, err := h.lakeRows(source, entity)
			if err != nil {
				t.Fatalf("%s: %v", topic, err)
			}
			resp, err := h.control(context.Background(), h.opts.SinkCtl, "describe", map[string]string{"table": table})
			records := -1
			if err == nil {
				records, _ = strconv.Atoi(resp.GetResult()["records"])
			}
			if files == want && records == want {
				break
			}
			if files > want || records > want || time.Now().After(deadline) {
				t.Errorf("%s: %d rows in the lake's Parquet files and %d in the Iceberg table %s (%v), want %d", topic, files, records, table, err, want)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// count reads topic (read_committed) until it has want records or the
// step times out, then a little longer to catch extra ones.
func (h *harness) count(t *testing.T, topic string, want int) int {
	t.Helper()
	n := 0
	if want > 0 {
		if _, err := h.await(context.Background(), topic, stepTimeout, func(seen) bool { n++; return n >= want }); err != nil {
			t.Errorf("%s: %v", topic, err)
		}
	}
	all, _ := h.await(context.Background(), topic, 2*time.Second, func(seen) bool { return false })
	return max(n, len(all))
}

// checkMRR waits until mrr of category is the sum of the won deals, cell
// by cell.
func checkMRR(t *testing.T, h *harness, category string, want mrr) {
	mc, err := h.metricsClient()
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	deadline := time.Now().Add(stepTimeout)
	for {
		got, err := mc.mrr(context.Background(), categoryIs(category))
		if err != nil {
			t.Fatal(err)
		}
		if equalMRR(got, want) {
			t.Logf("mrr of %s: %v", category, got)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mrr of %s is %v after %s, want %v (the won deals)", category, got, stepTimeout, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// equalMRR compares two answers, a missing cell counting as zero.
func equalMRR(a, b mrr) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
