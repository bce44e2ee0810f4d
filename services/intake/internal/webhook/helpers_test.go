package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

var codecs sync.Map // schema text -> *goavro.Codec

func codecFor(tb testing.TB, schema string) *goavro.Codec {
	tb.Helper()
	if c, ok := codecs.Load(schema); ok {
		return c.(*goavro.Codec)
	}
	c, err := goavro.NewCodec(schema)
	if err != nil {
		tb.Fatalf("schema does not parse: %v", err)
	}
	codecs.Store(schema, c)
	return c
}

// roundTrip encodes every event's Value with its Schema, decodes it again and checks the
// invariants every Event must hold; it returns the decoded values.
func roundTrip(tb testing.TB, events []Event) []map[string]any {
	tb.Helper()
	out := make([]map[string]any, len(events))
	for i, ev := range events {
		if ev.Topic == "" || ev.Schema == "" || ev.ID == "" || ev.Source == "" {
			tb.Fatalf("event %d incomplete: topic %q id %q source %q", i, ev.Topic, ev.ID, ev.Source)
		}
		if !bytes.Equal(ev.Key, []byte(ev.ID)) {
			tb.Fatalf("event %d key %q != id %q", i, ev.Key, ev.ID)
		}
		if ev.Time.Location() != time.UTC {
			tb.Fatalf("event %d time %v not UTC", i, ev.Time)
		}
		codec := codecFor(tb, ev.Schema)
		bin, err := codec.BinaryFromNative(nil, ev.Value)
		if err != nil {
			tb.Fatalf("event %d (%s %s) does not encode: %v", i, ev.Topic, ev.ID, err)
		}
		native, rest, err := codec.NativeFromBinary(bin)
		if err != nil || len(rest) != 0 {
			tb.Fatalf("event %d does not decode: %v (%d bytes left)", i, err, len(rest))
		}
		m := native.(map[string]any)
		if m["event_id"] != ev.ID || m["source"] != ev.Source {
			tb.Fatalf("event %d decoded id/source %v/%v, want %s/%s", i, m["event_id"], m["source"], ev.ID, ev.Source)
		}
		if got := m["event_time"].(time.Time); !got.Equal(ev.Time.Truncate(time.Microsecond)) {
			tb.Fatalf("event %d event_time %v, Time %v", i, got, ev.Time)
		}
		if got := "raw." + ev.Source + "." + m["entity"].(string); got != ev.Topic {
			tb.Fatalf("event %d topic %s, but source/entity make %s", i, ev.Topic, got)
		}
		out[i] = m
	}
	return out
}

// str returns a decoded nullable string field ("" for null).
func str(m map[string]any, field string) string {
	switch v := m[field].(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]any:
		s, _ := v["string"].(string)
		return s
	}
	return "?"
}

// isNull reports whether a decoded field is null.
func isNull(m map[string]any, field string) bool {
	v, ok := m[field]
	return ok && v == nil
}

// readTestdata reads one file under testdata.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// seeds adds every file of a testdata directory to a fuzz corpus.
func seeds(f *testing.F, dir string) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// mustJSON fails unless b is valid JSON.
func mustJSON(tb testing.TB, b []byte) {
	tb.Helper()
	if !json.Valid(b) {
		tb.Fatalf("not JSON: %.200s", b)
	}
}

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC)

// checkParsed is the check every parser fuzz target makes: an error must be one of the
// allowed kinds; otherwise every event encodes with its schema and its payload is a verbatim
// slice of the body. It returns the decoded values, and false when the parse failed.
func checkParsed(tb testing.TB, body []byte, events []Event, err error, kinds ...error) ([]map[string]any, bool) {
	tb.Helper()
	if err != nil {
		for _, k := range kinds {
			if errors.Is(err, k) {
				return nil, false
			}
		}
		tb.Fatalf("unexpected error kind: %v", err)
	}
	ms := roundTrip(tb, events)
	for _, m := range ms {
		if !bytes.Contains(body, []byte(m["payload"].(string))) {
			tb.Fatal("payload not a slice of the body")
		}
	}
	return ms, true
}
