package registry

import (
	"net/http"
	"reflect"
	"testing"
)

func TestSoftAndHardDelete(t *testing.T) {
	cluster, _, c := start(t)
	c.setLevel("s", None)
	id1 := c.register("s", rec(fID))
	id2 := c.register("s", rec(fID, fB))
	id3 := c.register("s", rec(fID, fB, fCDefault))
	c.register("other", rec(fID)) // shares id1
	c.setLevel("s", Full)

	// Soft-delete one version.
	var n int
	c.ok(http.MethodDelete, "/subjects/s/versions/2", nil, &n)
	if n != 2 {
		t.Fatalf("DELETE version answered %d", n)
	}
	var versions []int
	c.ok(http.MethodGet, "/subjects/s/versions", nil, &versions)
	if !reflect.DeepEqual(versions, []int{1, 3}) {
		t.Fatalf("live versions = %v", versions)
	}
	c.ok(http.MethodGet, "/subjects/s/versions?deleted=true", nil, &versions)
	if !reflect.DeepEqual(versions, []int{1, 2, 3}) {
		t.Fatalf("versions with deleted = %v", versions)
	}
	c.fail(http.MethodGet, "/subjects/s/versions/2", nil, 404, CodeVersionNotFound)
	var v schemaResponse
	c.ok(http.MethodGet, "/subjects/s/versions/2?deleted=true", nil, &v)
	if v.ID != id2 {
		t.Fatalf("soft-deleted version = %+v", v)
	}
	// Consumers can still resolve a soft-deleted schema by id.
	c.ok(http.MethodGet, "/schemas/ids/"+itoa(id2), nil, nil)
	c.fail(http.MethodDelete, "/subjects/s/versions/2", nil, 404, CodeVersionSoftDeleted)
	c.fail(http.MethodDelete, "/subjects/s/versions/3?permanent=true", nil, 404, CodeVersionNotSoftDeleted)
	c.fail(http.MethodDelete, "/subjects/s/versions/9", nil, 404, CodeVersionNotFound)
	c.fail(http.MethodDelete, "/subjects/nope/versions/1", nil, 404, CodeSubjectNotFound)

	// Hard-delete it: its id disappears since nothing else uses it.
	c.ok(http.MethodDelete, "/subjects/s/versions/2?permanent=true", nil, &n)
	if n != 2 {
		t.Fatalf("permanent DELETE version answered %d", n)
	}
	c.ok(http.MethodGet, "/subjects/s/versions?deleted=true", nil, &versions)
	if !reflect.DeepEqual(versions, []int{1, 3}) {
		t.Fatalf("versions after hard delete = %v", versions)
	}
	c.fail(http.MethodGet, "/schemas/ids/"+itoa(id2), nil, 404, CodeSchemaNotFound)

	// Soft-delete the subject.
	c.fail(http.MethodDelete, "/subjects/s?permanent=true", nil, 404, CodeSubjectNotSoftDeleted)
	c.ok(http.MethodDelete, "/subjects/s", nil, &versions)
	if !reflect.DeepEqual(versions, []int{1, 3}) {
		t.Fatalf("DELETE subject answered %v", versions)
	}
	var subjects []string
	c.ok(http.MethodGet, "/subjects", nil, &subjects)
	if !reflect.DeepEqual(subjects, []string{"other"}) {
		t.Fatalf("subjects after soft delete = %v", subjects)
	}
	c.ok(http.MethodGet, "/subjects?deleted=true", nil, &subjects)
	if !reflect.DeepEqual(subjects, []string{"other", "s"}) {
		t.Fatalf("subjects with deleted = %v", subjects)
	}
	c.fail(http.MethodGet, "/subjects/s/versions", nil, 404, CodeSubjectNotFound)
	c.fail(http.MethodGet, "/subjects/s/versions/latest", nil, 404, CodeSubjectNotFound)
	c.fail(http.MethodDelete, "/subjects/s", nil, 404, CodeSubjectSoftDeleted)
	c.fail(http.MethodPost, "/subjects/s", map[string]string{"schema": rec(fID)}, 404, CodeSubjectNotFound)
	var found schemaResponse
	c.ok(http.MethodPost, "/subjects/s?deleted=true", map[string]string{"schema": rec(fID)}, &found)
	if found.Version != 1 || found.ID != id1 {
		t.Fatalf("lookup with deleted = %+v", found)
	}

	// Re-registering after a soft delete creates a new version with the
	// schema's old id, and compatibility ignores deleted versions.
	if id := c.register("s", rec(fNameInt)); id == id1 || id == id3 {
		t.Fatalf("unrelated schema got reused id %d", id)
	}
	c.setLevel("s", None)
	if id := c.register("s", rec(fID, fB, fCDefault)); id != id3 {
		t.Fatalf("re-registered schema got id %d, want %d", id, id3)
	}
	c.ok(http.MethodGet, "/subjects/s/versions", nil, &versions)
	if !reflect.DeepEqual(versions, []int{4, 5}) {
		t.Fatalf("versions after re-register = %v", versions)
	}

	// Hard-delete the whole subject, with its compatibility level.
	c.ok(http.MethodDelete, "/subjects/s", nil, &versions)
	c.ok(http.MethodDelete, "/subjects/s?permanent=true", nil, &versions)
	if !reflect.DeepEqual(versions, []int{1, 3, 4, 5}) {
		t.Fatalf("permanent DELETE subject answered %v", versions)
	}
	c.fail(http.MethodGet, "/subjects/s/versions?deleted=true", nil, 404, CodeSubjectNotFound)
	c.fail(http.MethodGet, "/config/s", nil, 404, CodeSubjectLevelNotConfigured)
	c.fail(http.MethodDelete, "/subjects/s?permanent=true", nil, 404, CodeSubjectNotFound)
	c.fail(http.MethodGet, "/schemas/ids/"+itoa(id3), nil, 404, CodeSchemaNotFound)
	// id1 is still used by "other".
	c.ok(http.MethodGet, "/schemas/ids/"+itoa(id1), nil, nil)

	// The topic holds tombstones for the hard-deleted keys.
	recs := readTopic(t, cluster.ListenAddrs(), "_schemas")
	tombstones := map[string]bool{}
	for _, r := range recs {
		if r.Value == nil {
			tombstones[string(r.Key)] = true
		}
	}
	for _, k := range []string{
		`{"keytype":"SCHEMA","subject":"s","version":2,"magic":1}`,
		`{"keytype":"SCHEMA","subject":"s","version":5,"magic":1}`,
		`{"keytype":"CONFIG","subject":"s","magic":0}`,
	} {
		if !tombstones[k] {
			t.Errorf("no tombstone for %s", k)
		}
	}
}
