package registry

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchSchema is a mid-sized record schema.
const benchSchema = `{"type":"record","name":"Order","namespace":"riacho.bench","fields":[
	{"name":"id","type":"long"},{"name":"customer","type":"string"},
	{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
	{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
	{"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[
		{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
	{"name":"note","type":["null","string"],"default":null}]}`

func BenchmarkParseSchema(b *testing.B) {
	for b.Loop() {
		if _, err := parseSchema(benchSchema); err != nil {
			b.Fatal(err)
		}
	}
}

// benchHandler returns the handler of a registry holding benchSchema as id 1.
func benchHandler(b *testing.B) http.Handler {
	cluster := newCluster(b)
	r := newRegistry(b, cluster.ListenAddrs(), testConfig(), nil)
	h := r.Handler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/subjects/orders-value/versions", bytes.NewReader(registerBody(b))))
	if w.Code != http.StatusOK {
		b.Fatalf("register: %d %s", w.Code, w.Body)
	}
	return h
}

func registerBody(b *testing.B) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"schema":`)
	enc, err := jsonString(benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	buf.Write(enc)
	buf.WriteString(`}`)
	return buf.Bytes()
}

// BenchmarkGetSchemaByID is the consumer hot path: resolving a wire-format id.
func BenchmarkGetSchemaByID(b *testing.B) {
	h := benchHandler(b)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/schemas/ids/1", nil))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkRegisterExisting is the producer hot path: registering a schema
// the subject already has (parse, validate, find; no Kafka write).
func BenchmarkRegisterExisting(b *testing.B) {
	h := benchHandler(b)
	body := registerBody(b)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/subjects/orders-value/versions", bytes.NewReader(body)))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

func jsonString(s string) ([]byte, error) { return json.Marshal(s) }
