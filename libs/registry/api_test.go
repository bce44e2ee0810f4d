package registry

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestEndpoints(t *testing.T) {
	_, _, c := start(t)

	var root map[string]any
	c.ok(http.MethodGet, "/", nil, &root)
	var types []string
	c.ok(http.MethodGet, "/schemas/types", nil, &types)
	if !reflect.DeepEqual(types, []string{"AVRO"}) {
		t.Fatalf("schema types = %v", types)
	}
	var subjects []string
	c.ok(http.MethodGet, "/subjects", nil, &subjects)
	if subjects == nil || len(subjects) != 0 {
		t.Fatalf("subjects on an empty registry = %#v, want []", subjects)
	}

	id1 := c.register("users-value", userV1)
	id2 := c.register("users-value", userWithEmailDefault)
	if id2 <= id1 {
		t.Fatalf("second schema id %d is not above %d", id2, id1)
	}
	c.register("orders-value", `"string"`)

	c.ok(http.MethodGet, "/subjects", nil, &subjects)
	if !reflect.DeepEqual(subjects, []string{"orders-value", "users-value"}) {
		t.Fatalf("subjects = %v", subjects)
	}
	var versions []int
	c.ok(http.MethodGet, "/subjects/users-value/versions", nil, &versions)
	if !reflect.DeepEqual(versions, []int{1, 2}) {
		t.Fatalf("versions = %v", versions)
	}

	compact := func(s string) string {
		ps, err := parseSchema(s)
		if err != nil {
			t.Fatal(err)
		}
		return ps.text
	}
	want1 := schemaResponse{Subject: "users-value", ID: id1, Version: 1, Schema: compact(userV1)}
	want2 := schemaResponse{Subject: "users-value", ID: id2, Version: 2, Schema: compact(userWithEmailDefault)}
	for path, want := range map[string]schemaResponse{
		"/subjects/users-value/versions/1":      want1,
		"/subjects/users-value/versions/2":      want2,
		"/subjects/users-value/versions/latest": want2,
		"/subjects/users-value/versions/-1":     want2,
		"/subjects/users-value/versions/2/":     want2,
	} {
		var got schemaResponse
		c.ok(http.MethodGet, path, nil, &got)
		if got != want {
			t.Errorf("GET %s = %+v, want %+v", path, got, want)
		}
	}

	status, raw := c.do(http.MethodGet, "/subjects/users-value/versions/1/schema", nil)
	if status != http.StatusOK || string(raw) != want1.Schema {
		t.Fatalf("raw schema = %d %s", status, raw)
	}
	var byID map[string]string
	c.ok(http.MethodGet, "/schemas/ids/"+itoa(id2), nil, &byID)
	if byID["schema"] != want2.Schema {
		t.Fatalf("schema by id = %v", byID)
	}
	status, raw = c.do(http.MethodGet, "/schemas/ids/"+itoa(id2)+"/schema", nil)
	if status != http.StatusOK || string(raw) != want2.Schema {
		t.Fatalf("raw schema by id = %d %s", status, raw)
	}
	var idVersions []subjectVersion
	c.ok(http.MethodGet, "/schemas/ids/"+itoa(id1)+"/versions", nil, &idVersions)
	if !reflect.DeepEqual(idVersions, []subjectVersion{{"users-value", 1}}) {
		t.Fatalf("id versions = %v", idVersions)
	}
	var idSubjects []string
	c.ok(http.MethodGet, "/schemas/ids/"+itoa(id1)+"/subjects", nil, &idSubjects)
	if !reflect.DeepEqual(idSubjects, []string{"users-value"}) {
		t.Fatalf("id subjects = %v", idSubjects)
	}
	var refs []int
	c.ok(http.MethodGet, "/subjects/users-value/versions/1/referencedby", nil, &refs)
	if refs == nil || len(refs) != 0 {
		t.Fatalf("referencedby = %#v", refs)
	}
	var mode map[string]string
	c.ok(http.MethodGet, "/mode", nil, &mode)
	if mode["mode"] != "READWRITE" {
		t.Fatalf("mode = %v", mode)
	}

	// Lookup: formatting does not matter, only the compacted JSON.
	var found schemaResponse
	c.ok(http.MethodPost, "/subjects/users-value", map[string]string{"schema": "  " + userV1 + "\n"}, &found)
	if found != want1 {
		t.Fatalf("lookup = %+v, want %+v", found, want1)
	}
	c.fail(http.MethodPost, "/subjects/users-value", map[string]string{"schema": userWithAgeNoDefault}, 404, CodeSchemaNotFound)
	c.fail(http.MethodPost, "/subjects/nobody", map[string]string{"schema": userV1}, 404, CodeSubjectNotFound)

	// Subject names with reserved characters travel escaped.
	c.register("a%2Fb%20c", `"int"`)
	c.ok(http.MethodGet, "/subjects", nil, &subjects)
	if !strings.Contains(strings.Join(subjects, ","), "a/b c") {
		t.Fatalf("escaped subject missing from %v", subjects)
	}

	// Every body content type is accepted.
	for _, ct := range []string{ContentType, "application/json", "application/octet-stream", ""} {
		req, _ := http.NewRequest(http.MethodPost, c.base+"/subjects/ct-value/versions",
			strings.NewReader(`{"schema":"\"bytes\""}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ContentType {
			t.Fatalf("content type %q: status %d, response type %q", ct, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestSameSchemaSameID(t *testing.T) {
	_, _, c := start(t)
	idA := c.register("a-value", userV1)
	idB := c.register("b-value", userV1)
	if idA != idB {
		t.Fatalf("same schema under two subjects: ids %d and %d", idA, idB)
	}
	// Whitespace does not change the identity.
	pretty := strings.ReplaceAll(userV1, ",", ",\n    ")
	if id := c.register("c-value", pretty); id != idA {
		t.Fatalf("reformatted schema got id %d, want %d", id, idA)
	}
	// Re-registering returns the same id and creates no version.
	for range 3 {
		if id := c.register("a-value", userV1); id != idA {
			t.Fatalf("re-register got id %d, want %d", id, idA)
		}
	}
	var versions []int
	c.ok(http.MethodGet, "/subjects/a-value/versions", nil, &versions)
	if !reflect.DeepEqual(versions, []int{1}) {
		t.Fatalf("versions after re-registering = %v", versions)
	}
	// A schema differing only in a default is another schema (not the
	// Parsing Canonical Form, which drops defaults).
	c.setLevel("d-value", None)
	withDefault := `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]}`
	withOther := `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":2}]}`
	d1, d2 := c.register("d-value", withDefault), c.register("d-value", withOther)
	if d1 == d2 {
		t.Fatalf("schemas differing in a default share id %d", d1)
	}
	var idVersions []subjectVersion
	c.ok(http.MethodGet, "/schemas/ids/"+itoa(idA)+"/versions", nil, &idVersions)
	want := []subjectVersion{{"a-value", 1}, {"b-value", 1}, {"c-value", 1}}
	if !reflect.DeepEqual(idVersions, want) {
		t.Fatalf("id versions = %v, want %v", idVersions, want)
	}
}

func TestErrorCodes(t *testing.T) {
	_, _, c := start(t)
	c.register("s", userV1)
	big := `{"schema":"` + strings.Repeat(" ", 9<<20) + `\"int\""}`
	tests := []struct {
		name         string
		method, path string
		body         any
		status, code int
	}{
		{"subject not found", "GET", "/subjects/nope/versions", nil, 404, CodeSubjectNotFound},
		{"subject not found on version", "GET", "/subjects/nope/versions/1", nil, 404, CodeSubjectNotFound},
		{"version not found", "GET", "/subjects/s/versions/7", nil, 404, CodeVersionNotFound},
		{"schema id not found", "GET", "/schemas/ids/999", nil, 404, CodeSchemaNotFound},
		{"schema id not a number", "GET", "/schemas/ids/abc", nil, 404, CodeSchemaNotFound},
		{"lookup schema not found", "POST", "/subjects/s", map[string]string{"schema": `"int"`}, 404, CodeSchemaNotFound},
		{"incompatible", "POST", "/subjects/s/versions", map[string]string{"schema": userNameAsInt}, 409, CodeIncompatibleSchema},
		{"invalid schema json", "POST", "/subjects/s/versions", map[string]string{"schema": `{"type":`}, 422, CodeInvalidSchema},
		{"invalid avro", "POST", "/subjects/s/versions", map[string]string{"schema": `{"type":"record","name":"R"}`}, 422, CodeInvalidSchema},
		{"protobuf", "POST", "/subjects/s/versions", map[string]string{"schema": "syntax=\"proto3\";", "schemaType": "PROTOBUF"}, 422, CodeInvalidSchema},
		{"references", "POST", "/subjects/s/versions", `{"schema":"\"int\"","references":[{"name":"x","subject":"y","version":1}]}`, 422, CodeInvalidSchema},
		{"no schema field", "POST", "/subjects/s/versions", `{}`, 422, CodeInvalidSchema},
		{"body not json", "POST", "/subjects/s/versions", `schema`, 400, codeBadRequest},
		{"body too large", "POST", "/subjects/s/versions", big, 413, codeRequestTooLarge},
		{"version not a number", "GET", "/subjects/s/versions/abc", nil, 422, CodeInvalidVersion},
		{"version zero", "GET", "/subjects/s/versions/0", nil, 422, CodeInvalidVersion},
		{"version too big", "GET", "/subjects/s/versions/2147483648", nil, 422, CodeInvalidVersion},
		{"version invalid on delete", "DELETE", "/subjects/s/versions/x", nil, 422, CodeInvalidVersion},
		{"version invalid on compatibility", "POST", "/compatibility/subjects/s/versions/0", map[string]string{"schema": userV1}, 422, CodeInvalidVersion},
		{"invalid level", "PUT", "/config", map[string]string{"compatibility": "SIDEWAYS"}, 422, CodeInvalidCompatibilityLevel},
		{"invalid subject level", "PUT", "/config/s", map[string]string{"compatibility": ""}, 422, CodeInvalidCompatibilityLevel},
		{"subject level not configured", "GET", "/config/s", nil, 404, CodeSubjectLevelNotConfigured},
		{"unknown route", "GET", "/nowhere", nil, 404, codeNotFound},
		{"unknown nested route", "GET", "/subjects/s/versions/1/nothing", nil, 404, codeNotFound},
		{"wrong method", "PUT", "/subjects", nil, 405, codeMethodNotAllowed},
		{"wrong method on versions", "PATCH", "/subjects/s/versions", nil, 405, codeMethodNotAllowed},
		{"wrong method on ids", "DELETE", "/schemas/ids/1", nil, 405, codeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := *c
			tc.t = t
			e := tc.fail(tt.method, tt.path, tt.body, tt.status, tt.code)
			if tt.code == CodeIncompatibleSchema && !strings.Contains(e.Message, "BACKWARD: the new schema cannot read data written with version 1") {
				t.Fatalf("incompatible message %q does not name the level and version", e.Message)
			}
		})
	}
	// 405 lists the allowed methods.
	req, _ := http.NewRequest(http.MethodPut, c.base+"/subjects/s/versions", nil)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Allow"); got != "GET, POST" {
		t.Fatalf("Allow = %q", got)
	}
}

func TestConfigEndpoints(t *testing.T) {
	_, _, c := start(t)
	var cfg configResponse
	c.ok(http.MethodGet, "/config", nil, &cfg)
	if cfg.Compatibility != Backward || cfg.CompatibilityLevel != Backward {
		t.Fatalf("default global config = %+v", cfg)
	}
	c.setLevel("", Full)
	c.ok(http.MethodGet, "/config", nil, &cfg)
	if cfg.Compatibility != Full {
		t.Fatalf("global config after PUT = %+v", cfg)
	}

	c.fail(http.MethodGet, "/config/s", nil, 404, CodeSubjectLevelNotConfigured)
	c.ok(http.MethodGet, "/config/s?defaultToGlobal=true", nil, &cfg)
	if cfg.Compatibility != Full {
		t.Fatalf("subject config with defaultToGlobal = %+v", cfg)
	}
	// Lower case is accepted and answered in the canonical spelling; a level
	// can be set before the subject has any schema.
	var put map[string]string
	c.ok(http.MethodPut, "/config/s", map[string]string{"compatibility": "forward_transitive"}, &put)
	if put["compatibility"] != ForwardTransitive {
		t.Fatalf("PUT answered %v", put)
	}
	c.ok(http.MethodGet, "/config/s", nil, &cfg)
	if cfg.Compatibility != ForwardTransitive {
		t.Fatalf("subject config = %+v", cfg)
	}
	// Confluent's field name is accepted in PUT bodies too.
	c.ok(http.MethodPut, "/config/s", map[string]string{"compatibilityLevel": "NONE"}, &put)
	c.ok(http.MethodGet, "/config/s", nil, &cfg)
	if cfg.Compatibility != None {
		t.Fatalf("subject config after compatibilityLevel PUT = %+v", cfg)
	}
	c.ok(http.MethodDelete, "/config/s", nil, &cfg)
	if cfg.Compatibility != None {
		t.Fatalf("DELETE answered %+v, want the previous level", cfg)
	}
	c.fail(http.MethodGet, "/config/s", nil, 404, CodeSubjectLevelNotConfigured)
	c.fail(http.MethodDelete, "/config/s", nil, 404, CodeSubjectLevelNotConfigured)

	c.ok(http.MethodDelete, "/config", nil, &cfg)
	if cfg.Compatibility != Full {
		t.Fatalf("DELETE /config answered %+v", cfg)
	}
	c.ok(http.MethodGet, "/config", nil, &cfg)
	if cfg.Compatibility != Backward {
		t.Fatalf("global config after DELETE = %+v, want the default", cfg)
	}
	c.fail(http.MethodPut, "/config", `{"compatibility":`, 400, codeBadRequest)
}

func TestNotReady(t *testing.T) {
	c := newCluster(t)
	r, err := New(c.ListenAddrs(), testConfig(), testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	api := serve(t, r)
	if r.Ready() {
		t.Fatal("ready before Start")
	}
	api.fail(http.MethodGet, "/subjects", nil, 500, CodeStoreError)
	// Unknown routes are still 404.
	api.fail(http.MethodGet, "/nowhere", nil, 404, codeNotFound)
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"/", nil, true},
		{"", nil, true},
		{"/subjects", []string{"subjects"}, true},
		{"/subjects/", []string{"subjects"}, true},
		{"/subjects/a%2Fb/versions", []string{"subjects", "a/b", "versions"}, true},
		{"/subjects/%zz", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := splitPath(tt.in)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("splitPath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
