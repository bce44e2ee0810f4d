package app

import (
	"bytes"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// BenchmarkWhatsAppHandler drives the intake's HTTP handler directly (no sockets on the HTTP
// side, so net/http's connection handling is left out) through to kfake's acknowledgement over
// TCP, with 32 concurrent requests per core, and reports the process's CPU time per request
// (user+system, from getrusage: the handler, franz-go and the in-process broker together).
func BenchmarkWhatsAppHandler(b *testing.B) {
	h := newHarness(b, func(c *Config) { c.TopicPartitions = 3 })
	sig := sign(testWhatsAppSecret, benchNotification)
	handler := h.svc.Handler()
	par := 32
	if v, err := strconv.Atoi(os.Getenv("BENCH_PARALLELISM")); err == nil && v > 0 {
		par = v
	}
	b.SetParallelism(par)
	b.SetBytes(int64(len(benchNotification)))
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{header: make(http.Header)}
		body := bytes.NewReader(nil)
		for pb.Next() {
			body.Reset(benchNotification)
			req, _ := http.NewRequest(http.MethodPost, "http://intake/webhooks/whatsapp", body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hub-Signature-256", sig)
			clear(w.header)
			w.status = 0
			handler.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}

// processCPU is the user+system CPU time the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
