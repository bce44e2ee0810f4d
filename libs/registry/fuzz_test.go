package registry

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fuzzSeeds are request bodies of every shape the API sees.
var fuzzSeeds = []string{
	`{"schema":"\"int\""}`,
	`{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":1}]}"}`,
	`{"schema":"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"A\"}","schemaType":"AVRO"}`,
	`{"schema":"[\"null\",{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"bytes\"}}]"}`,
	`{"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":16,\"logicalType\":\"decimal\",\"precision\":4}"}`,
	`{"schema":"{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"n\",\"type\":[\"null\",\"N\"]}]}"}`,
	`{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`,
	`{"schema":"\"int\"","references":[{"name":"x"}]}`,
	`{"schema":{"type":"int"}}`,
	`{"schema":null}`,
	`{"compatibility":"FULL"}`,
	`{"schema":"{\"type\":\"record\",\"name\":\"\u0000\",\"fields\":[]}"}`,
	`[]`, `null`, `"`, ``, `{"schema":"` + "\xff" + `"}`,
}

func FuzzParseSchema(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ps, e := decodeSchemaRequest(body)
		if e != nil {
			if e.Code != CodeInvalidSchema && e.Code != codeBadRequest {
				t.Fatalf("unexpected code %d: %s", e.Code, e.Message)
			}
			return
		}
		// A valid schema's identity is compact JSON and a fixed point.
		again, err := parseSchema(ps.text)
		if err != nil {
			t.Fatalf("identity %q does not parse again: %v", ps.text, err)
		}
		if again.text != ps.text {
			t.Fatalf("identity is not stable: %q then %q", ps.text, again.text)
		}
	})
}

// FuzzHandler sends fuzzed bodies through the real handler of a registry
// over kfake: it must never panic and must always answer with JSON.
func FuzzHandler(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(uint8(0), []byte(s))
	}
	f.Add(uint8(3), []byte(`{"compatibility":"FULL"}`))
	f.Add(uint8(4), []byte(`{"compatibility":"nope"}`))

	cluster := newCluster(f)
	r := newRegistry(f, cluster.ListenAddrs(), testConfig(), nil)
	h := r.Handler()
	paths := []struct{ method, path string }{
		{http.MethodPost, "/subjects/fuzz/versions"},
		{http.MethodPost, "/subjects/fuzz"},
		{http.MethodPost, "/compatibility/subjects/fuzz/versions/latest?verbose=true"},
		{http.MethodPut, "/config/fuzz-config"},
		{http.MethodPut, "/config/fuzz-config2"},
	}
	// Everything is accepted at NONE, so valid schemas pile up as versions.
	put := httptest.NewRequest(http.MethodPut, "/config/fuzz", bytes.NewReader([]byte(`{"compatibility":"NONE"}`)))
	h.ServeHTTP(httptest.NewRecorder(), put)

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		p := paths[int(which)%len(paths)]
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(p.method, p.path, bytes.NewReader(body)))
		if w.Header().Get("Content-Type") != ContentType {
			t.Fatalf("content type %q", w.Header().Get("Content-Type"))
		}
		if w.Code == http.StatusOK {
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("200 with a non-JSON body %q", w.Body.Bytes())
			}
			return
		}
		var e Error
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == 0 || e.Message == "" {
			t.Fatalf("status %d with body %q (%v)", w.Code, w.Body.Bytes(), err)
		}
		if e.HTTPStatus() != w.Code {
			t.Fatalf("status %d carries error code %d", w.Code, e.Code)
		}
		if e.Code >= 50000 || e.Code == codeInternal {
			t.Fatalf("server error for body %q: %s", body, e.Message)
		}
	})
}
