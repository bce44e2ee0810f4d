package registry

import (
	"encoding/json"
	"net/http"
)

// compatibilityResponse is the answer of the compatibility endpoints.
type compatibilityResponse struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages"`
}

func (r *Registry) handleCompatibility(w http.ResponseWriter, req *http.Request, p params) {
	var ref *versionRef
	if raw, ok := p["version"]; ok {
		v, e := parseVersion(raw)
		if e != nil {
			writeError(w, e)
			return
		}
		ref = &v
	}
	ps, ok := r.readSchema(w, req)
	if !ok {
		return
	}
	msgs, e := r.testCompatibility(p["subject"], ref, ps)
	if e != nil {
		writeError(w, e)
		return
	}
	resp := compatibilityResponse{IsCompatible: len(msgs) == 0, Messages: []string{}}
	if boolParam(req, "verbose") {
		resp.Messages = append(resp.Messages, msgs...)
	}
	writeJSON(w, http.StatusOK, resp)
}

// configResponse answers GET and DELETE on /config: Confluent's clients read
// "compatibilityLevel", riacho's clients read "compatibility"; both are set.
type configResponse struct {
	Compatibility      string `json:"compatibility"`
	CompatibilityLevel string `json:"compatibilityLevel"`
}

func (r *Registry) handleGetConfig(w http.ResponseWriter, req *http.Request, p params) {
	subject, global := p["subject"], p == nil
	level, own := r.state.level(subject, r.cfg.DefaultCompatibility)
	if !global && !own && !boolParam(req, "defaultToGlobal") {
		writeError(w, subjectLevelNotConfigured(subject))
		return
	}
	writeJSON(w, http.StatusOK, configResponse{Compatibility: level, CompatibilityLevel: level})
}

// configRequest is the body of PUT /config and PUT /config/{subject}.
type configRequest struct {
	Compatibility      string `json:"compatibility"`
	CompatibilityLevel string `json:"compatibilityLevel"`
}

func (r *Registry) handlePutConfig(w http.ResponseWriter, req *http.Request, p params) {
	body, e := r.readBody(w, req)
	if e != nil {
		writeError(w, e)
		return
	}
	var cr configRequest
	if err := json.Unmarshal(body, &cr); err != nil {
		writeError(w, apiErr(codeBadRequest, "request body is not a JSON object with a \"compatibility\" string: %v", err))
		return
	}
	if cr.Compatibility == "" {
		cr.Compatibility = cr.CompatibilityLevel
	}
	level, e := normalizeLevel(cr.Compatibility)
	if e != nil {
		writeError(w, e)
		return
	}
	if e := r.setLevel(req.Context(), p["subject"], p == nil, level); e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"compatibility": level})
}

func (r *Registry) handleDeleteConfig(w http.ResponseWriter, req *http.Request, p params) {
	prev, e := r.deleteLevel(req.Context(), p["subject"], p == nil)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, configResponse{Compatibility: prev, CompatibilityLevel: prev})
}
