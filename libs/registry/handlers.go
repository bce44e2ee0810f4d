package registry

import (
	"net/http"
	"strconv"
)

// schemaResponse is a version of a subject as the API returns it.
type schemaResponse struct {
	Subject string `json:"subject"`
	ID      int    `json:"id"`
	Version int    `json:"version"`
	Schema  string `json:"schema"`
}

func toResponse(v *storedVersion) schemaResponse {
	return schemaResponse{Subject: v.Subject, ID: v.ID, Version: v.Version, Schema: v.Schema}
}

// routes builds the REST API.
func (r *Registry) routes() http.Handler {
	rt := &router{reg: r}
	rt.add(http.MethodGet, "/", func(w http.ResponseWriter, _ *http.Request, _ params) {
		writeJSON(w, http.StatusOK, struct{}{})
	})
	rt.add(http.MethodGet, "/subjects", r.handleListSubjects)
	rt.add(http.MethodPost, "/subjects/{subject}", r.handleLookup)
	rt.add(http.MethodDelete, "/subjects/{subject}", r.handleDeleteSubject)
	rt.add(http.MethodGet, "/subjects/{subject}/versions", r.handleListVersions)
	rt.add(http.MethodPost, "/subjects/{subject}/versions", r.handleRegister)
	rt.add(http.MethodGet, "/subjects/{subject}/versions/{version}", r.handleGetVersion)
	rt.add(http.MethodDelete, "/subjects/{subject}/versions/{version}", r.handleDeleteVersion)
	rt.add(http.MethodGet, "/subjects/{subject}/versions/{version}/schema", r.handleGetVersionSchema)
	rt.add(http.MethodGet, "/subjects/{subject}/versions/{version}/referencedby", r.handleReferencedBy)
	rt.add(http.MethodGet, "/schemas/types", func(w http.ResponseWriter, _ *http.Request, _ params) {
		writeJSON(w, http.StatusOK, []string{schemaTypeAvro})
	})
	rt.add(http.MethodGet, "/schemas/ids/{id}", r.handleSchemaByID)
	rt.add(http.MethodGet, "/schemas/ids/{id}/schema", r.handleSchemaByIDRaw)
	rt.add(http.MethodGet, "/schemas/ids/{id}/versions", r.handleSchemaIDVersions)
	rt.add(http.MethodGet, "/schemas/ids/{id}/subjects", r.handleSchemaIDSubjects)
	rt.add(http.MethodPost, "/compatibility/subjects/{subject}/versions", r.handleCompatibility)
	rt.add(http.MethodPost, "/compatibility/subjects/{subject}/versions/{version}", r.handleCompatibility)
	rt.add(http.MethodGet, "/config", r.handleGetConfig)
	rt.add(http.MethodPut, "/config", r.handlePutConfig)
	rt.add(http.MethodDelete, "/config", r.handleDeleteConfig)
	rt.add(http.MethodGet, "/config/{subject}", r.handleGetConfig)
	rt.add(http.MethodPut, "/config/{subject}", r.handlePutConfig)
	rt.add(http.MethodDelete, "/config/{subject}", r.handleDeleteConfig)
	rt.add(http.MethodGet, "/mode", func(w http.ResponseWriter, _ *http.Request, _ params) {
		writeJSON(w, http.StatusOK, map[string]string{"mode": "READWRITE"})
	})
	return rt
}

func (r *Registry) handleListSubjects(w http.ResponseWriter, req *http.Request, _ params) {
	out := r.state.subjectNames(boolParam(req, "deleted"))
	if out == nil {
		out = []string{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *Registry) handleListVersions(w http.ResponseWriter, req *http.Request, p params) {
	vs := r.state.versions(p["subject"], boolParam(req, "deleted"))
	if len(vs) == 0 {
		writeError(w, errSubjectNotFound(p["subject"]))
		return
	}
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	writeJSON(w, http.StatusOK, out)
}

// readSchema reads and validates a schema request body.
func (r *Registry) readSchema(w http.ResponseWriter, req *http.Request) (parsedSchema, bool) {
	body, e := r.readBody(w, req)
	if e == nil {
		var ps parsedSchema
		if ps, e = decodeSchemaRequest(body); e == nil {
			return ps, true
		}
	}
	writeError(w, e)
	return parsedSchema{}, false
}

func (r *Registry) handleRegister(w http.ResponseWriter, req *http.Request, p params) {
	ps, ok := r.readSchema(w, req)
	if !ok {
		return
	}
	id, e := r.register(req.Context(), p["subject"], ps)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"id": id})
}

func (r *Registry) handleLookup(w http.ResponseWriter, req *http.Request, p params) {
	ps, ok := r.readSchema(w, req)
	if !ok {
		return
	}
	v, e := r.lookup(p["subject"], ps, boolParam(req, "deleted"))
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, toResponse(v))
}

func (r *Registry) handleDeleteSubject(w http.ResponseWriter, req *http.Request, p params) {
	out, e := r.deleteSubject(req.Context(), p["subject"], boolParam(req, "permanent"))
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// version resolves the {subject} and {version} path segments.
func (r *Registry) version(req *http.Request, p params) (*storedVersion, *Error) {
	ref, e := parseVersion(p["version"])
	if e != nil {
		return nil, e
	}
	return r.resolveVersion(p["subject"], ref, boolParam(req, "deleted"))
}

func (r *Registry) handleGetVersion(w http.ResponseWriter, req *http.Request, p params) {
	v, e := r.version(req, p)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, toResponse(v))
}

func (r *Registry) handleGetVersionSchema(w http.ResponseWriter, req *http.Request, p params) {
	v, e := r.version(req, p)
	if e != nil {
		writeError(w, e)
		return
	}
	writeRaw(w, v.Schema)
}

func (r *Registry) handleReferencedBy(w http.ResponseWriter, req *http.Request, p params) {
	if _, e := r.version(req, p); e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, []int{})
}

func (r *Registry) handleDeleteVersion(w http.ResponseWriter, req *http.Request, p params) {
	ref, e := parseVersion(p["version"])
	if e != nil {
		writeError(w, e)
		return
	}
	n, e := r.deleteVersion(req.Context(), p["subject"], ref, boolParam(req, "permanent"))
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

// writeRaw writes a stored schema text as the body.
func writeRaw(w http.ResponseWriter, schema string) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(schema))
}

// schemaID resolves the {id} path segment to a schema text.
func (r *Registry) schemaID(p params) (int, string, *Error) {
	id, err := strconv.Atoi(p["id"])
	if err == nil && id > 0 {
		if s, ok := r.state.schemaByID(id); ok {
			return id, s, nil
		}
	}
	return 0, "", apiErr(CodeSchemaNotFound, "Schema %s not found", strconv.Quote(p["id"]))
}

func (r *Registry) handleSchemaByID(w http.ResponseWriter, _ *http.Request, p params) {
	_, s, e := r.schemaID(p)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"schema": s})
}

func (r *Registry) handleSchemaByIDRaw(w http.ResponseWriter, _ *http.Request, p params) {
	_, s, e := r.schemaID(p)
	if e != nil {
		writeError(w, e)
		return
	}
	writeRaw(w, s)
}

// subjectVersion is one element of GET /schemas/ids/{id}/versions.
type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

func (r *Registry) handleSchemaIDVersions(w http.ResponseWriter, req *http.Request, p params) {
	id, _, e := r.schemaID(p)
	if e != nil {
		writeError(w, e)
		return
	}
	out := []subjectVersion{}
	for _, v := range r.state.usesOfID(id, boolParam(req, "deleted")) {
		out = append(out, subjectVersion{Subject: v.Subject, Version: v.Version})
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *Registry) handleSchemaIDSubjects(w http.ResponseWriter, req *http.Request, p params) {
	id, _, e := r.schemaID(p)
	if e != nil {
		writeError(w, e)
		return
	}
	out := []string{}
	for _, v := range r.state.usesOfID(id, boolParam(req, "deleted")) {
		if len(out) == 0 || out[len(out)-1] != v.Subject {
			out = append(out, v.Subject)
		}
	}
	writeJSON(w, http.StatusOK, out)
}
