package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/riacho/riacho/services/intake/internal/webhook"
)

// Sentinels for request authentication outcomes.
var (
	ErrUnknownSource = errors.New("source is not configured")
	ErrUnauthorized  = errors.New("missing or invalid credentials")
)

// httpError is an answer other than success: status, a metrics reason and a message.
type httpError struct {
	status int
	reason string
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }

func fail(status int, reason string, err error) *httpError {
	return &httpError{status: status, reason: reason, err: err}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPresizedBody is the largest declared Content-Length readBody makes room for before the
// bytes arrive; larger bodies grow the buffer as they are read.
const maxPresizedBody = 64 << 10

// readBody reads the whole body up to limit bytes into a pooled buffer.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (*bytes.Buffer, *httpError) {
	if r.ContentLength > limit {
		return nil, fail(http.StatusRequestEntityTooLarge, "too_large",
			fmt.Errorf("body of %d bytes is over the limit of %d bytes", r.ContentLength, limit))
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	if n := r.ContentLength; n >= 0 && n <= maxPresizedBody {
		// net/http ends the body at Content-Length (checked against the limit above): read
		// exactly that much, straight into the buffer's spare room. Only for small bodies, so a
		// client cannot make the server allocate a large buffer without sending its bytes.
		buf.Grow(int(n))
		b := buf.AvailableBuffer()[:n]
		if _, err := io.ReadFull(r.Body, b); err != nil {
			putBody(buf)
			return nil, fail(http.StatusBadRequest, "read", fmt.Errorf("read body: %w", err))
		}
		buf.Write(b)
		return buf, nil
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		putBody(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fail(http.StatusRequestEntityTooLarge, "too_large",
				fmt.Errorf("body is over the limit of %d bytes", limit))
		}
		return nil, fail(http.StatusBadRequest, "read", fmt.Errorf("read body: %w", err))
	}
	return buf, nil
}

func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		bufPool.Put(buf)
	}
}

// parseFunc turns an authenticated body into events.
type parseFunc func(body []byte, receivedAt time.Time) ([]webhook.Event, error)

// ingest is the path every JSON intake route shares: refuse while paused, read the body within
// the limit, authenticate before parsing, parse, produce and answer 200 only after Kafka acked.
func (s *Service) ingest(w http.ResponseWriter, r *http.Request, source string,
	auth func(r *http.Request, body []byte) error, parse parseFunc) {
	start := time.Now()
	ctx, span := s.startSpan(r, source)
	defer span.End()

	n, herr := s.ingestBody(ctx, w, r, source, auth, parse)
	if herr != nil {
		s.answerError(w, source, start, herr)
		return
	}
	s.answerAccepted(w, s.metrics.source(source), start, n)
}

func (s *Service) ingestBody(ctx context.Context, w http.ResponseWriter, r *http.Request, source string,
	auth func(r *http.Request, body []byte) error, parse parseFunc) (int, *httpError) {
	if herr := s.admit(); herr != nil {
		return 0, herr
	}
	buf, herr := readBody(w, r, s.cfg.MaxBodyBytes)
	if herr != nil {
		return 0, herr
	}
	defer putBody(buf)
	body := buf.Bytes()
	if err := auth(r, body); err != nil {
		if errors.Is(err, ErrUnknownSource) {
			return 0, fail(http.StatusNotFound, "unknown_source", err)
		}
		return 0, fail(http.StatusUnauthorized, "unauthorized", err)
	}
	now := time.Now().UTC()
	events, err := parse(body, now)
	if err != nil {
		return 0, classifyParse(err)
	}
	if herr := s.produce(ctx, source, events, now); herr != nil {
		return 0, herr
	}
	return len(events), nil
}

func classifyParse(err error) *httpError {
	if errors.Is(err, webhook.ErrBadName) {
		return fail(http.StatusNotFound, "bad_name", err)
	}
	return fail(http.StatusBadRequest, "malformed", err)
}

// admit refuses work while the service is paused or shutting down.
func (s *Service) admit() *httpError {
	if s.paused.Load() {
		return fail(http.StatusServiceUnavailable, "paused", errors.New("intake is paused by an operator"))
	}
	if s.stopping.Load() {
		return fail(http.StatusServiceUnavailable, "stopping", errors.New("intake is shutting down"))
	}
	return nil
}

// produce sends events and waits for every acknowledgement within the produce timeout. ctx
// carries the request's trace context into the records.
func (s *Service) produce(ctx context.Context, source string, events []webhook.Event, now time.Time) *httpError {
	if len(events) == 0 {
		return nil
	}
	pctx := s.deadlines.context()
	batch, err := s.topics.records(pctx, events, now)
	// The records hold encoded copies: the events' value maps can be reused by later parses.
	webhook.ReleaseEvents(events)
	if err != nil {
		if pctx.Err() != nil || isUnavailable(err) {
			return fail(http.StatusServiceUnavailable, "unavailable", fmt.Errorf("%w: %w", ErrUnavailable, err))
		}
		return fail(http.StatusInternalServerError, "encode", err)
	}
	for _, rec := range batch.recs {
		s.injectTrace(ctx, rec)
	}
	if err := s.producer.ProduceAll(pctx, batch.recs); err != nil {
		// Not released: records not acknowledged may still be in the producer's hands.
		s.state.SetError(fmt.Errorf("produce %s events: %w", source, err))
		return fail(http.StatusServiceUnavailable, "unavailable", fmt.Errorf("%w: %w", ErrUnavailable, err))
	}
	sm := s.metrics.source(source)
	for _, rec := range batch.recs {
		sm.produced(rec.Topic).Inc()
	}
	s.eventsRate.Add(uint64(len(batch.recs)))
	// Every record was acknowledged, so the producer is done with them.
	batch.release()
	return nil
}

func (s *Service) answerError(w http.ResponseWriter, source string, start time.Time, herr *httpError) {
	s.metrics.rejections.WithLabelValues(source, herr.reason).Inc()
	if herr.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
	}
	if herr.status >= 500 {
		s.log.Warn("request failed", "source", source, "status", herr.status, "reason", herr.reason, "error", herr.err)
	} else {
		s.log.Debug("request rejected", "source", source, "status", herr.status, "reason", herr.reason, "error", herr.err)
	}
	s.answer(w, source, start, herr.status, map[string]any{"error": herr.err.Error(), "reason": herr.reason})
}

func (s *Service) answer(w http.ResponseWriter, source string, start time.Time, status int, body any) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
	code := strconv.Itoa(status)
	s.metrics.requests.WithLabelValues(source, code).Inc()
	s.metrics.latency.WithLabelValues(source).Observe(time.Since(start).Seconds())
	s.requestsRate.Add(1)
}

// jsonContentType is the Content-Type of every JSON answer, shared so setting it allocates nothing.
var jsonContentType = []string{"application/json"}

// acceptedBody is the JSON answer of an ingest of n events, as json.Encoder writes it.
func acceptedBody(n int) []byte {
	b := append([]byte(`{"accepted":`), strconv.Itoa(n)...)
	return append(b, "}\n"...)
}

// acceptedBodies holds the answers of the usual small counts, so writing them allocates nothing.
var acceptedBodies = func() (bodies [64][]byte) {
	for n := range bodies {
		bodies[n] = acceptedBody(n)
	}
	return bodies
}()

// answerAccepted writes the 200 answer of an ingest, {"accepted":n}, as answer would, without
// reflection or per-request encoder.
func (s *Service) answerAccepted(w http.ResponseWriter, sm *sourceMetrics, start time.Time, n int) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	if n < len(acceptedBodies) {
		_, _ = w.Write(acceptedBodies[n])
	} else {
		_, _ = w.Write(acceptedBody(n)) //nolint:gosec // a JSON body built from an integer, served as application/json
	}
	sm.ok.Inc()
	sm.latency.Observe(time.Since(start).Seconds())
	s.requestsRate.Add(1)
}

// sourceAuth authenticates a generic source by bearer token or by HMAC-SHA256 signature
// (X-Signature-256: sha256=<hex> over the raw body), whichever is configured for it.
func (s *Service) sourceAuth(source string) func(r *http.Request, body []byte) error {
	return func(r *http.Request, body []byte) error {
		token, hasToken := s.cfg.SourceTokens[source]
		secret, hasSecret := s.cfg.SourceHMACSecrets[source]
		if !hasToken && !hasSecret {
			return fmt.Errorf("%w: %q", ErrUnknownSource, source)
		}
		if hasToken {
			if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
				subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
				return nil
			}
		}
		if hasSecret {
			if sig := r.Header.Get("X-Signature-256"); sig != "" {
				return checkHMAC([]byte(secret), body, sig)
			}
		}
		return ErrUnauthorized
	}
}

// checkHMAC verifies "sha256=<hex>" against HMAC-SHA256(secret, body) in constant time.
func checkHMAC(secret, body []byte, header string) error {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return fmt.Errorf("%w: signature must look like sha256=<hex>", ErrUnauthorized)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrUnauthorized)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: signature does not match the body", ErrUnauthorized)
	}
	return nil
}

// drain discards what is left of a body so the connection can be reused.
func drain(r *http.Request) { _, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20)) }
