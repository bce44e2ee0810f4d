package app

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchNotification is a ~1 KiB WhatsApp notification with one text message.
var benchNotification = []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511999990000","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Concei\u00e7\u00e3o Ara\u00fajo"},"wa_id":"5511987654321"}],"messages":[{"from":"5511987654321","id":"wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBDNzQ2RjU1NjY4MjE4QkRBAA==","timestamp":"1764158400","type":"text","text":{"body":"` +
	strings.Repeat(`Ol\u00e1! Gostaria de saber mais sobre o plano anual e as formas de pagamento. `, 8) + `"}}]}}]}]}`)

// BenchmarkWhatsAppOverHTTP drives the intake over real HTTP (keep-alive connections, as many
// concurrent senders as -cpu × 16) through to kfake's acknowledgement, and reports requests
// per second and latency percentiles. Client, server and broker share the machine.
func BenchmarkWhatsAppOverHTTP(b *testing.B) {
	h := newHarness(b)
	sig := sign(testWhatsAppSecret, benchNotification)
	url := h.url + "/webhooks/whatsapp"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(16)
	b.SetBytes(int64(len(benchNotification)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(benchNotification))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hub-Signature-256", sig)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var buf [256]byte
			for {
				if _, err := resp.Body.Read(buf[:]); err != nil {
					break
				}
			}
			resp.Body.Close()
			lat = append(lat, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
