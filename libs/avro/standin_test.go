package avro_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// standIn is a small in-memory stand-in for a Confluent schema registry,
// implementing only the endpoints these tests call. It exists so this
// package can be tested without libs/registry; the real server is tested
// against this client in integration_test.go.
type standIn struct {
	srv *httptest.Server

	user, pass string       // basic auth, when user != ""
	failNext   atomic.Int32 // answer this many next requests with 503
	requests   atomic.Int32

	mu       sync.Mutex
	ids      map[string]int            // compact schema -> id
	schemas  map[int]string            // id -> schema
	subjects map[string][]int          // subject -> ids by version
	config   map[string]string         // subject ("" global) -> level
	perPath  map[string]int            // "METHOD path" -> requests
	extra    func(http.ResponseWriter) // optional raw answer override
}

func newStandIn(t testing.TB) *standIn {
	t.Helper()
	s := &standIn{
		ids:      map[string]int{},
		schemas:  map[int]string{},
		subjects: map[string][]int{},
		config:   map[string]string{"": "BACKWARD"},
		perPath:  map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perPath[key]
}

type apiError struct {
	status, code int
	msg          string
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i, seg := range segs {
		segs[i], _ = url.PathUnescape(seg)
	}
	s.mu.Lock()
	s.perPath[r.Method+" /"+strings.Join(segs, "/")]++
	override := s.extra
	s.mu.Unlock()
	if s.failNext.Load() > 0 {
		s.failNext.Add(-1)
		writeJSON(w, 503, map[string]any{"error_code": 50003, "message": "try later"})
		return
	}
	if override != nil {
		override(w)
		return
	}
	if s.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
			writeJSON(w, 401, map[string]any{"error_code": 401, "message": "Unauthorized"})
			return
		}
	}
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && r.Header.Get("Content-Type") != "application/vnd.schemaregistry.v1+json" {
		writeJSON(w, 415, map[string]any{"error_code": 415, "message": "unsupported content type " + r.Header.Get("Content-Type")})
		return
	}
	var body struct {
		Schema        string `json:"schema"`
		Compatibility string `json:"compatibility"`
	}
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	s.mu.Lock()
	v, e := s.route(r.Method, segs, body.Schema, body.Compatibility, r.URL.Query())
	s.mu.Unlock()
	if e != nil {
		writeJSON(w, e.status, map[string]any{"error_code": e.code, "message": e.msg})
		return
	}
	writeJSON(w, 200, v)
}

func compact(schema string) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(schema)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// backwardProblems applies the one BACKWARD rule these tests need: a record
// field added without a default cannot read older data.
func backwardProblems(newSchema, oldSchema string) []string {
	fields := func(s string) map[string]bool {
		var rec struct {
			Fields []map[string]any `json:"fields"`
		}
		_ = json.Unmarshal([]byte(s), &rec)
		out := map[string]bool{}
		for _, f := range rec.Fields {
			_, hasDefault := f["default"]
			out[fmt.Sprint(f["name"])] = hasDefault
		}
		return out
	}
	old := fields(oldSchema)
	var msgs []string
	for name, hasDefault := range fields(newSchema) {
		if _, ok := old[name]; !ok && !hasDefault {
			msgs = append(msgs, fmt.Sprintf("READER_FIELD_MISSING_DEFAULT_VALUE: %s", name))
		}
	}
	slices.Sort(msgs)
	return msgs
}

func (s *standIn) level(subject string) string {
	if l, ok := s.config[subject]; ok {
		return l
	}
	return s.config[""]
}

func (s *standIn) version(subject, v string) (map[string]any, *apiError) {
	ids, ok := s.subjects[subject]
	if !ok {
		return nil, &apiError{404, 40401, fmt.Sprintf("Subject '%s' not found.", subject)}
	}
	n := len(ids)
	if v != "latest" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > len(ids) {
			return nil, &apiError{404, 40402, fmt.Sprintf("Version %s not found.", v)}
		}
	}
	id := ids[n-1]
	return map[string]any{"subject": subject, "version": n, "id": id, "schema": s.schemas[id]}, nil
}

func (s *standIn) route(method string, segs []string, schema, compat string, q url.Values) (any, *apiError) {
	switch {
	case method == "GET" && len(segs) == 1 && segs[0] == "subjects":
		out := []string{}
		for sub := range s.subjects {
			out = append(out, sub)
		}
		slices.Sort(out)
		return out, nil
	case method == "POST" && len(segs) == 3 && segs[0] == "subjects" && segs[2] == "versions":
		sub := segs[1]
		if _, err := goavro.NewCodec(schema); err != nil {
			return nil, &apiError{422, 42201, "Invalid schema: " + err.Error()}
		}
		c, _ := compact(schema)
		if id, ok := s.ids[c]; ok && slices.Contains(s.subjects[sub], id) {
			return map[string]any{"id": id}, nil
		}
		if ids := s.subjects[sub]; len(ids) > 0 && s.level(sub) != "NONE" {
			if msgs := backwardProblems(schema, s.schemas[ids[len(ids)-1]]); len(msgs) > 0 {
				return nil, &apiError{409, 409, "Schema being registered is incompatible with an earlier schema; " + strings.Join(msgs, "; ")}
			}
		}
		id, ok := s.ids[c]
		if !ok {
			id = len(s.schemas) + 1
			s.ids[c] = id
			s.schemas[id] = c
		}
		s.subjects[sub] = append(s.subjects[sub], id)
		return map[string]any{"id": id}, nil
	case method == "GET" && len(segs) == 3 && segs[0] == "schemas" && segs[1] == "ids":
		id, _ := strconv.Atoi(segs[2])
		sc, ok := s.schemas[id]
		if !ok {
			return nil, &apiError{404, 40403, "Schema " + segs[2] + " not found"}
		}
		return map[string]any{"schema": sc}, nil
	case method == "GET" && len(segs) == 4 && segs[0] == "subjects" && segs[2] == "versions":
		v, e := s.version(segs[1], segs[3])
		return v, e
	case method == "POST" && len(segs) == 5 && segs[0] == "compatibility":
		v, e := s.version(segs[2], segs[4])
		if e != nil {
			return nil, e
		}
		msgs := backwardProblems(schema, v["schema"].(string))
		return map[string]any{"is_compatible": len(msgs) == 0, "messages": msgs}, nil
	case segs[0] == "config" && len(segs) <= 2:
		sub := ""
		if len(segs) == 2 {
			sub = segs[1]
		}
		if method == "PUT" {
			s.config[sub] = compat
			return map[string]any{"compatibility": compat}, nil
		}
		if _, ok := s.config[sub]; !ok && q.Get("defaultToGlobal") != "true" {
			return nil, &apiError{404, 40408, "Subject does not have subject-level compatibility configured"}
		}
		return map[string]any{"compatibilityLevel": s.level(sub)}, nil
	}
	return nil, &apiError{404, 404, "HTTP 404 Not Found"}
}
