package avro

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	contentType = "application/vnd.schemaregistry.v1+json"
	accept      = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5"
	// maxBody bounds what is read from one registry answer.
	maxBody = 16 << 20
	// getAttempts bounds tries of a read-only request on 5xx or connection errors.
	getAttempts = 4
	// retryBase is the first backoff; it doubles per retry (50, 100, 200ms).
	retryBase = 50 * time.Millisecond
)

// Client talks to a Confluent-compatible schema registry. It caches the
// answers that cannot change (the id of a schema registered under a
// subject, the schema of an id) and is safe for concurrent use.
type Client struct {
	base    string
	hc      *http.Client
	ownHC   bool
	user    string
	pass    string
	timeout time.Duration

	mu        sync.RWMutex
	idBySubj  map[subjectSchema]int
	schemaIDs map[int]string
}

type subjectSchema struct{ subject, schema string }

// NewClient returns a Client for cfg. hc may be nil for a client of its
// own (whose idle connections Close releases); cfg.Timeout bounds every
// request either way.
func NewClient(cfg RegistryConfig, hc *http.Client) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		base:      strings.TrimRight(cfg.URL, "/"),
		hc:        hc,
		user:      cfg.Username,
		pass:      cfg.Password,
		timeout:   cfg.Timeout,
		idBySubj:  make(map[subjectSchema]int),
		schemaIDs: make(map[int]string),
	}
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("RIACHO_SCHEMA_REGISTRY_PASSWORD_FILE: %w", err)
		}
		c.pass = strings.TrimRight(string(b), "\r\n")
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		c.ownHC = true
	}
	return c, nil
}

// Close releases idle connections of a Client that made its own
// http.Client; it does nothing for an injected one.
func (c *Client) Close() {
	if c.ownHC {
		c.hc.CloseIdleConnections()
	}
}

// call sends one request and decodes a JSON answer into out (unless nil).
// Read-only requests (retry) are repeated on 5xx, 429 and connection
// errors with a short doubling backoff.
func (c *Client) call(ctx context.Context, method, path string, in, out any, retry bool) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
	}
	attempts := 1
	if retry {
		attempts = getAttempts
	}
	var err error
	for i := range attempts {
		if i > 0 {
			t := time.NewTimer(retryBase << (i - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s %s: %w (last error: %w)", method, path, ctx.Err(), err)
			case <-t.C:
			}
		}
		var again bool
		again, err = c.once(ctx, method, path, body, out)
		if err == nil || !again {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// once sends the request once; again reports a retryable failure.
func (c *Client) once(ctx context.Context, method, path string, body []byte, out any) (again bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// Connection-level failure: retryable unless our context ended.
		return ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		rerr := decodeError(resp.StatusCode, data)
		return rerr.retryable(), rerr
	}
	if out == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return false, fmt.Errorf("decode answer: %w", err)
	}
	return false, nil
}

// decodeError turns an error answer into a *RegistryError.
func decodeError(status int, body []byte) *RegistryError {
	var e struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err == nil && (e.Code != 0 || e.Message != "") {
		return &RegistryError{Status: status, Code: e.Code, Message: e.Message}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &RegistryError{Status: status, Message: msg}
}
