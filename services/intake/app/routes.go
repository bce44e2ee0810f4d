package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/services/intake/internal/webhook"
)

// Route sources, as they appear in metrics labels.
const (
	sourceWhatsApp = "whatsapp"
	sourceMeta     = "meta"
	sourcePloomes  = "ploomes"
)

// routes builds the intake's HTTP interface: webhooks, events and uploads behind the ops
// routes of mux (/metrics and the probes).
func (s *Service) routes(mux *http.ServeMux) http.Handler {
	api := http.NewServeMux()
	webhooks := map[string]http.HandlerFunc{
		"/webhooks/whatsapp": s.signed(sourceWhatsApp, s.cfg.WhatsAppAppSecret, webhook.ParseWhatsApp),
		"/webhooks/meta":     s.signed(sourceMeta, s.cfg.MetaAppSecret, webhook.ParseMetaLeads),
		"/webhooks/ploomes":  s.ploomes,
	}
	for p, h := range webhooks {
		api.HandleFunc("POST "+p, h)
	}
	api.HandleFunc("GET /webhooks/whatsapp", s.handshake(sourceWhatsApp, s.cfg.WhatsAppAppSecret, s.cfg.WhatsAppVerifyToken))
	api.HandleFunc("GET /webhooks/meta", s.handshake(sourceMeta, s.cfg.MetaAppSecret, s.metaVerifyToken()))
	api.HandleFunc("POST /v1/events/{source}/{entity}", s.events)
	api.HandleFunc("POST /v1/uploads/{source}/{entity}", s.upload)
	mux.Handle("/", api)
	return &webhookRoutes{post: webhooks, next: mux}
}

// webhookRoutes sends POSTs to the fixed webhook paths, nearly all of the traffic, straight to
// their handlers by exact path; everything else goes through the ServeMux routing (where the
// same paths lead to the same handlers), which takes two pattern lookups.
type webhookRoutes struct {
	post map[string]http.HandlerFunc
	next http.Handler
}

func (h *webhookRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if hf := h.post[r.URL.Path]; hf != nil {
			hf(w, r)
			return
		}
	}
	h.next.ServeHTTP(w, r)
}

func (s *Service) metaVerifyToken() string {
	if s.cfg.MetaVerifyToken != "" {
		return s.cfg.MetaVerifyToken
	}
	return s.cfg.WhatsAppVerifyToken
}

// handshake answers Meta's GET verification: the challenge as plain text when the token matches.
func (s *Service) handshake(source, secret, token string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if secret == "" || token == "" {
			s.answerError(w, source, start, fail(http.StatusNotFound, "not_configured",
				fmt.Errorf("%s webhooks are not configured", source)))
			return
		}
		challenge, err := webhook.VerifyChallenge(r.URL.Query(), token)
		if err != nil {
			s.answerError(w, source, start, fail(http.StatusForbidden, "verify_token", err))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(challenge)) //nolint:gosec // Meta's handshake requires echoing the challenge, as text/plain
		s.metrics.requests.WithLabelValues(source, "200").Inc()
	}
}

// signed handles a POST checked by X-Hub-Signature-256 before anything is parsed.
func (s *Service) signed(source, secret string, parse parseFunc) http.HandlerFunc {
	verifier := webhook.NewSignatureVerifier([]byte(secret))
	return func(w http.ResponseWriter, r *http.Request) {
		if secret == "" {
			drain(r)
			s.answerError(w, source, time.Now(), fail(http.StatusNotFound, "not_configured",
				fmt.Errorf("%s webhooks are not configured", source)))
			return
		}
		s.ingest(w, r, source, func(r *http.Request, body []byte) error {
			return verifier.Verify(body, r.Header.Get("X-Hub-Signature-256"))
		}, parse)
	}
}

func (s *Service) ploomes(w http.ResponseWriter, r *http.Request) {
	if s.cfg.PloomesValidationKey == "" {
		drain(r)
		s.answerError(w, sourcePloomes, time.Now(), fail(http.StatusNotFound, "not_configured",
			errors.New("ploomes webhooks are not configured")))
		return
	}
	s.ingest(w, r, sourcePloomes, func(r *http.Request, body []byte) error {
		return webhook.CheckPloomesKey(r.Header.Get("X-Ploomes-Validation-Key"), body, s.cfg.PloomesValidationKey)
	}, webhook.ParsePloomes)
}

// events accepts generic JSON (one object or an array) for a configured source.
func (s *Service) events(w http.ResponseWriter, r *http.Request) {
	source, entity := r.PathValue("source"), r.PathValue("entity")
	label := metricSource(source)
	if !webhook.ValidName(source) || !webhook.ValidName(entity) {
		drain(r)
		s.answerError(w, label, time.Now(), fail(http.StatusNotFound, "bad_name",
			fmt.Errorf("source and entity must match ^[a-z][a-z0-9_]{0,62}$, got %q/%q", source, entity)))
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	s.ingest(w, r, label, s.sourceAuth(source), func(body []byte, now time.Time) ([]webhook.Event, error) {
		return webhook.ParseGeneric(source, entity, body, idem, now)
	})
}

// metricSource keeps metric label values bounded to configured names.
func metricSource(source string) string {
	if webhook.ValidName(source) {
		return source
	}
	return "invalid"
}

// upload accepts a CSV or XLSX file, as the raw body or as the "file" part of a multipart form.
// Options come from the query: format, separator, encoding, columns (name:type,...), filename.
func (s *Service) upload(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	source, entity := r.PathValue("source"), r.PathValue("entity")
	label := metricSource(source)
	ctx, span := s.startSpan(r, label)
	defer span.End()
	if !webhook.ValidName(source) || !webhook.ValidName(entity) {
		drain(r)
		s.answerError(w, label, start, fail(http.StatusNotFound, "bad_name",
			fmt.Errorf("source and entity must match ^[a-z][a-z0-9_]{0,62}$, got %q/%q", source, entity)))
		return
	}
	if herr := s.admit(); herr != nil {
		drain(r)
		s.answerError(w, label, start, herr)
		return
	}
	buf, herr := readBody(w, r, s.cfg.MaxUploadBytes)
	if herr != nil {
		s.answerError(w, label, start, herr)
		return
	}
	defer putBody(buf)
	if err := s.sourceAuth(source)(r, buf.Bytes()); err != nil {
		status, reason := http.StatusUnauthorized, "unauthorized"
		if errors.Is(err, ErrUnknownSource) {
			status, reason = http.StatusNotFound, "unknown_source"
		}
		s.answerError(w, label, start, fail(status, reason, err))
		return
	}
	fileName, data, opts, herr := uploadInput(r, buf.Bytes())
	if herr != nil {
		s.answerError(w, label, start, herr)
		return
	}
	now := time.Now().UTC()
	events, rejected, err := webhook.ParseUpload(source, entity, fileName, data, opts, now)
	if err != nil {
		s.answerError(w, label, start, fail(http.StatusBadRequest, "malformed", err))
		return
	}
	s.metrics.rows.WithLabelValues(label, "rejected").Add(float64(len(rejected)))
	if herr := s.produce(ctx, label, events, now); herr != nil {
		s.answerError(w, label, start, herr)
		return
	}
	s.metrics.rows.WithLabelValues(label, "accepted").Add(float64(len(events)))
	status := http.StatusOK
	if len(events) == 0 && len(rejected) > 0 {
		status = http.StatusUnprocessableEntity
	}
	rows := make([]map[string]any, len(rejected))
	for i, rr := range rejected {
		rows[i] = map[string]any{"row": rr.Row, "reason": rr.Reason}
	}
	s.answer(w, label, start, status, map[string]any{
		"file_name": fileName, "accepted": len(events), "rejected": rows,
	})
}

// uploadInput extracts the file, its name and the parsing options from an upload request.
func uploadInput(r *http.Request, body []byte) (string, []byte, webhook.UploadOptions, *httpError) {
	q := r.URL.Query()
	opts := webhook.UploadOptions{
		Format:   q.Get("format"),
		Encoding: q.Get("encoding"),
	}
	if sep := q.Get("separator"); sep != "" {
		rs := []rune(sep)
		if sep == "tab" || sep == `\t` {
			rs = []rune{'\t'}
		}
		if len(rs) != 1 {
			return "", nil, opts, fail(http.StatusBadRequest, "options", fmt.Errorf("separator must be one character, got %q", sep))
		}
		opts.Separator = rs[0]
	}
	if cols := q.Get("columns"); cols != "" {
		opts.Columns = make(map[string]string)
		for _, c := range strings.Split(cols, ",") {
			name, typ, ok := strings.Cut(strings.TrimSpace(c), ":")
			if !ok || name == "" || typ == "" {
				return "", nil, opts, fail(http.StatusBadRequest, "options",
					fmt.Errorf("columns must be name:type pairs separated by commas, got %q", c))
			}
			opts.Columns[name] = typ
		}
	}
	if mr := q.Get("max_rows"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil || n <= 0 {
			return "", nil, opts, fail(http.StatusBadRequest, "options", fmt.Errorf("max_rows must be a positive integer, got %q", mr))
		}
		opts.MaxRows = n
	}
	fileName := q.Get("filename")
	data := body
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		name, part, err := multipartFile(body, params["boundary"])
		if err != nil {
			return "", nil, opts, fail(http.StatusBadRequest, "malformed", err)
		}
		data = part
		if fileName == "" {
			fileName = name
		}
	}
	if fileName == "" {
		if _, p, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
			fileName = p["filename"]
		}
	}
	fileName = path.Base(strings.ReplaceAll(fileName, `\`, "/"))
	if fileName == "." || fileName == "/" || fileName == "" {
		fileName = "upload"
	}
	return fileName, data, opts, nil
}

// multipartFile returns the name and content of the form's "file" part.
func multipartFile(body []byte, boundary string) (string, []byte, error) {
	if boundary == "" {
		return "", nil, errors.New("multipart body without boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", nil, fmt.Errorf("multipart form has no \"file\" part: %w", err)
		}
		if p.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return "", nil, fmt.Errorf("read multipart file: %w", err)
		}
		return p.FileName(), data, nil
	}
}
