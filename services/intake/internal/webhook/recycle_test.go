package webhook

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
)

// whatsAppSamples returns every WhatsApp testdata notification.
func whatsAppSamples(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "whatsapp", "*.json"))
	if err != nil || len(files) < 10 {
		tb.Fatalf("WhatsApp samples: %d files, %v", len(files), err)
	}
	out := make([][]byte, len(files))
	for i, name := range files {
		out[i] = readTestdata(tb, filepath.Join("whatsapp", filepath.Base(name)))
	}
	return out
}

// encodeAll parses body and returns the Avro encoding of every event's value.
func encodeAll(tb testing.TB, body []byte) ([]Event, [][]byte) {
	tb.Helper()
	events, err := ParseWhatsApp(body, testNow)
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	out := make([][]byte, len(events))
	for i, ev := range events {
		if out[i], err = codecFor(tb, ev.Schema).BinaryFromNative(nil, ev.Value); err != nil {
			tb.Fatalf("encode %s %s: %v", ev.Topic, ev.ID, err)
		}
	}
	return events, out
}

// checkSame fails unless a parse with recycled maps encodes to want, then releases the events.
func checkSame(tb testing.TB, body []byte, want [][]byte, what string) {
	tb.Helper()
	events, got := encodeAll(tb, body)
	if len(got) != len(want) {
		tb.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			tb.Fatalf("%s: event %d (%s) encodes differently with recycled maps:\n got %x\nwant %x",
				what, i, events[i].Topic, got[i], want[i])
		}
	}
	ReleaseEvents(events)
	for i, ev := range events {
		if ev.Value != nil {
			tb.Fatalf("%s: event %d keeps its value after release", what, i)
		}
	}
}

func TestReleaseEventsSameBytes(t *testing.T) {
	samples := whatsAppSamples(t)
	// Reference encodings from maps that are never recycled (the events are kept alive).
	want := make([][][]byte, len(samples))
	var kept [][]Event
	events := 0
	for i, body := range samples {
		var evs []Event
		evs, want[i] = encodeAll(t, body)
		kept = append(kept, evs)
		events += len(evs)
	}
	if events < len(samples) {
		t.Fatalf("only %d events from %d samples", events, len(samples))
	}
	orders := map[string]func(n int) []int{
		"forward": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i
			}
			return out
		},
		"reverse": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = n - 1 - i
			}
			return out
		},
		"shuffled": func(n int) []int { return rand.New(rand.NewPCG(1, 2)).Perm(n) },
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			for round := range 3 {
				for _, i := range order(len(samples)) {
					checkSame(t, samples[i], want[i], fmt.Sprintf("round %d sample %d", round, i))
				}
			}
		})
	}
	// The kept events were never released: their values still encode as they did.
	for i, evs := range kept {
		for j, ev := range evs {
			got, err := codecFor(t, ev.Schema).BinaryFromNative(nil, ev.Value)
			if err != nil || !bytes.Equal(got, want[i][j]) {
				t.Fatalf("sample %d event %d changed while other events were recycled (%v)", i, j, err)
			}
		}
	}
}

func TestReleaseEventsConcurrent(t *testing.T) {
	samples := whatsAppSamples(t)
	want := make([][][]byte, len(samples))
	for i, body := range samples {
		_, want[i] = encodeAll(t, body)
	}
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := range 5 * len(samples) {
				i := (n*(w+1) + w) % len(samples)
				checkSame(t, samples[i], want[i], fmt.Sprintf("worker %d sample %d", w, i))
			}
		})
	}
	wg.Wait()
}

func TestReleaseEventsLeavesOthers(t *testing.T) {
	tests := []struct {
		name  string
		parse func() ([]Event, error)
	}{
		{"meta", func() ([]Event, error) { return ParseMetaLeads(readTestdata(t, "meta/mixed.json"), testNow) }},
		{"generic", func() ([]Event, error) {
			return ParseGeneric("crm", "deals", []byte(`[{"id":1},{"id":2}]`), "", testNow)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := tt.parse()
			if err != nil || len(events) == 0 {
				t.Fatalf("parse: %d events, %v", len(events), err)
			}
			ReleaseEvents(events)
			for i, ev := range events {
				if ev.Value == nil {
					t.Fatalf("event %d of a parser that does not recycle lost its value", i)
				}
			}
			roundTrip(t, events)
		})
	}
}
