package registry

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// rec builds a record schema named R from field JSON snippets.
func rec(fields ...string) string {
	return `{"type":"record","name":"R","fields":[` + strings.Join(fields, ",") + `]}`
}

const (
	fID         = `{"name":"id","type":"long"}`
	fB          = `{"name":"b","type":"int"}`
	fBDefault   = `{"name":"b","type":"int","default":0}`
	fCDefault   = `{"name":"c","type":"string","default":""}`
	fNameString = `{"name":"name","type":"string"}`
	fNameInt    = `{"name":"name","type":"int"}`
)

func TestCompatibilityLevels(t *testing.T) {
	_, _, c := start(t)
	tests := []struct {
		name       string
		level      string
		history    []string // registered oldest first under NONE
		next       string
		compatible bool
	}{
		{"backward add field with default", Backward, []string{rec(fID)}, rec(fID, fBDefault), true},
		{"backward add field without default", Backward, []string{rec(fID)}, rec(fID, fB), false},
		{"backward remove field", Backward, []string{rec(fID, fB)}, rec(fID), true},
		{"backward only checks latest", Backward, []string{rec(fID), rec(fID, fBDefault)}, rec(fID, fB), true},
		{"backward transitive all compatible", BackwardTransitive, []string{rec(fID), rec(fID, fBDefault)}, rec(fID, fBDefault, fCDefault), true},
		{"backward transitive older incompatible", BackwardTransitive, []string{rec(fID), rec(fID, fBDefault)}, rec(fID, fB), false},
		{"forward add field without default", Forward, []string{rec(fID)}, rec(fID, fB), true},
		{"forward remove field without default", Forward, []string{rec(fID, fB)}, rec(fID), false},
		{"forward remove field with default", Forward, []string{rec(fID, fBDefault)}, rec(fID), true},
		{"forward only checks latest", Forward, []string{rec(fID, fB), rec(fID, fBDefault)}, rec(fID), true},
		{"forward transitive all compatible", ForwardTransitive, []string{rec(fID, fB), rec(fID, fBDefault)}, rec(fID, fB, fCDefault), true},
		{"forward transitive older incompatible", ForwardTransitive, []string{rec(fID, fB), rec(fID, fBDefault)}, rec(fID), false},
		{"full add optional field", Full, []string{rec(fID)}, rec(fID, fBDefault), true},
		{"full add field without default", Full, []string{rec(fID)}, rec(fID, fB), false},
		{"full remove field without default", Full, []string{rec(fID, fB)}, rec(fID), false},
		{"full only checks latest", Full, []string{rec(fID, fB), rec(fID, fBDefault)}, rec(fID), true},
		{"full transitive all compatible", FullTransitive, []string{rec(fID, fB), rec(fID, fBDefault)}, rec(fID, fBDefault, fCDefault), true},
		{"full transitive older incompatible", FullTransitive, []string{rec(fID, fB), rec(fID, fBDefault)}, rec(fID), false},
		{"none accepts a type change", None, []string{rec(fID, fNameString)}, rec(fID, fNameInt), true},
		{"none accepts anything", None, []string{rec(fID)}, `"string"`, true},
		{"backward rejects a type change", Backward, []string{rec(fID, fNameString)}, rec(fID, fNameInt), false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := *c
			tc.t = t
			subject := fmt.Sprintf("compat-%d", i)
			tc.setLevel(subject, None)
			for _, s := range tt.history {
				tc.register(subject, s)
			}
			tc.setLevel(subject, tt.level)

			var all compatibilityResponse
			tc.ok(http.MethodPost, "/compatibility/subjects/"+subject+"/versions?verbose=true",
				map[string]string{"schema": tt.next}, &all)
			if all.IsCompatible != tt.compatible {
				t.Fatalf("compatibility against the level's versions = %v, want %v (%v)", all.IsCompatible, tt.compatible, all.Messages)
			}
			if !tt.compatible && len(all.Messages) == 0 {
				t.Fatal("incompatible without messages in verbose mode")
			}

			status, body := tc.do(http.MethodPost, "/subjects/"+subject+"/versions", map[string]string{"schema": tt.next})
			switch {
			case tt.compatible && status != http.StatusOK:
				t.Fatalf("register compatible schema: %d %s", status, body)
			case !tt.compatible && status != http.StatusConflict:
				t.Fatalf("register incompatible schema: %d %s", status, body)
			case !tt.compatible && !strings.Contains(string(body), `"error_code":409`):
				t.Fatalf("incompatible answer %s lacks error_code 409", body)
			}
			var versions []int
			tc.ok(http.MethodGet, "/subjects/"+subject+"/versions", nil, &versions)
			want := len(tt.history)
			if tt.compatible {
				want++
			}
			if len(versions) != want {
				t.Fatalf("versions = %v, want %d of them", versions, want)
			}
		})
	}
}

func TestCompatibilityEndpoint(t *testing.T) {
	_, _, c := start(t)
	c.setLevel("s", None)
	c.register("s", rec(fID))            // v1
	c.register("s", rec(fID, fBDefault)) // v2
	c.setLevel("s", Backward)
	check := func(path, schema string, verbose bool) compatibilityResponse {
		t.Helper()
		if verbose {
			path += "?verbose=true"
		}
		var out compatibilityResponse
		c.ok(http.MethodPost, path, map[string]string{"schema": schema}, &out)
		if out.Messages == nil {
			t.Fatalf("%s: messages is null, want a list", path)
		}
		return out
	}
	// Against v2 (latest) rec(id, b) is backward compatible; against v1 it is not.
	if got := check("/compatibility/subjects/s/versions/latest", rec(fID, fB), false); !got.IsCompatible {
		t.Fatalf("latest: %+v", got)
	}
	if got := check("/compatibility/subjects/s/versions/2", rec(fID, fB), false); !got.IsCompatible {
		t.Fatalf("version 2: %+v", got)
	}
	got := check("/compatibility/subjects/s/versions/1", rec(fID, fB), false)
	if got.IsCompatible || len(got.Messages) != 0 {
		t.Fatalf("version 1 without verbose: %+v, want incompatible without messages", got)
	}
	got = check("/compatibility/subjects/s/versions/1", rec(fID, fB), true)
	if got.IsCompatible || len(got.Messages) != 1 || !strings.Contains(got.Messages[0], "version 1") ||
		!strings.Contains(got.Messages[0], "b") {
		t.Fatalf("version 1 verbose: %+v", got)
	}
	// A subject without versions is compatible with anything at "latest".
	if got := check("/compatibility/subjects/empty/versions/latest", rec(fID), true); !got.IsCompatible {
		t.Fatalf("latest of an empty subject: %+v", got)
	}
	c.fail(http.MethodPost, "/compatibility/subjects/empty/versions/1", map[string]string{"schema": rec(fID)}, 404, CodeSubjectNotFound)
	c.fail(http.MethodPost, "/compatibility/subjects/s/versions/9", map[string]string{"schema": rec(fID)}, 404, CodeVersionNotFound)
	c.fail(http.MethodPost, "/compatibility/subjects/s/versions/1", map[string]string{"schema": "{"}, 422, CodeInvalidSchema)
}
