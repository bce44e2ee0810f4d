package registry

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ContentType is the media type of every JSON response.
const ContentType = "application/vnd.schemaregistry.v1+json"

// params holds the {name} path segments of a matched route.
type params map[string]string

// route is one method and path pattern of the REST API.
type route struct {
	method  string
	pattern string
	segs    []string
	handle  func(w http.ResponseWriter, req *http.Request, p params)
}

// match reports whether path segments segs fit the route's pattern.
func (rt *route) match(segs []string) (params, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	var p params
	for i, s := range rt.segs {
		if strings.HasPrefix(s, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if p == nil {
				p = params{}
			}
			p[strings.Trim(s, "{}")] = segs[i]
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	return p, true
}

// router dispatches requests to routes and answers unknown paths with 404
// and known paths with the wrong method with 405, both as JSON errors.
type router struct {
	reg    *Registry
	routes []*route
}

func (rt *router) add(method, pattern string, h func(http.ResponseWriter, *http.Request, params)) {
	segs, _ := splitPath(pattern)
	rt.routes = append(rt.routes, &route{method: method, pattern: pattern, segs: segs, handle: h})
}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP implements http.Handler.
func (rt *router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	name := "unmatched"
	defer func() {
		if p := recover(); p != nil {
			rt.reg.log.Error("registry handler panic", "method", req.Method, "path", req.URL.Path, "panic", p)
			if sw.status == 0 {
				writeError(sw, apiErr(codeInternal, "internal server error"))
			}
		}
		rt.reg.metrics.requests.WithLabelValues(name, methodLabel(req.Method), strconv.Itoa(sw.status)).Inc()
		rt.reg.metrics.duration.WithLabelValues(name).Observe(time.Since(began).Seconds())
	}()

	segs, ok := splitPath(req.URL.EscapedPath())
	if !ok {
		writeError(sw, apiErr(codeNotFound, "HTTP 404 Not Found"))
		return
	}
	var allowed []string
	for _, r := range rt.routes {
		p, ok := r.match(segs)
		if !ok {
			continue
		}
		if r.method != req.Method {
			allowed = append(allowed, r.method)
			continue
		}
		name = r.pattern
		if !rt.reg.Ready() {
			writeError(sw, apiErr(CodeStoreError, "schema registry is not ready: its Kafka store is not loaded"))
			return
		}
		r.handle(sw, req, p)
		return
	}
	if len(allowed) > 0 {
		slices.Sort(allowed)
		sw.Header().Set("Allow", strings.Join(slices.Compact(allowed), ", "))
		writeError(sw, apiErr(codeMethodNotAllowed, "HTTP 405 Method Not Allowed"))
		return
	}
	writeError(sw, apiErr(codeNotFound, "HTTP 404 Not Found"))
}

// methodLabel bounds the method label's values.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodOptions:
		return m
	}
	return "other"
}

// splitPath splits an escaped URL path into unescaped segments, ignoring one
// trailing slash. It fails on bad escapes.
func splitPath(escaped string) ([]string, bool) {
	escaped = strings.TrimPrefix(escaped, "/")
	escaped = strings.TrimSuffix(escaped, "/")
	if escaped == "" {
		return nil, true
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

// writeJSON writes v as the response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(apiErr(codeInternal, "encode response: %v", err))
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes e with its HTTP status.
func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.HTTPStatus(), e)
}

// readBody reads a request body within Config.MaxBodyBytes. Bodies are taken
// as JSON whatever their content type (application/vnd.schemaregistry.v1+json,
// application/json, application/octet-stream, ...).
func (r *Registry) readBody(w http.ResponseWriter, req *http.Request) ([]byte, *Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apiErr(codeRequestTooLarge, "request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, apiErr(codeBadRequest, "read request body: %v", err)
	}
	return body, nil
}

// boolParam reads a boolean query parameter; absent or malformed is false.
func boolParam(req *http.Request, name string) bool {
	b, err := strconv.ParseBool(req.URL.Query().Get(name))
	return err == nil && b
}
