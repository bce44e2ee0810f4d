package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// statusError is a non-2xx answer from a webhook.
type statusError struct {
	code       int
	body       string
	retryAfter time.Duration
	hasRetry   bool
}

func (e *statusError) Error() string {
	return fmt.Sprintf("http %d: %s", e.code, e.body)
}

// retryable reports whether the status is worth another attempt.
func (e *statusError) retryable() bool {
	return e.code == http.StatusTooManyRequests || e.code >= 500
}

// post sends body to r.URL, retrying network errors, 429 and 5xx up to
// MaxAttempts, waiting Retry-After when given or else an exponential backoff.
func (n *Notifier) post(ctx context.Context, r *route, body []byte) error {
	backoff := n.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := n.postOnce(ctx, r.URL, body)
		if err == nil {
			return nil
		}
		wait := backoff
		var se *statusError
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("%w: route %s: %w", ErrDelivery, r.Name, err)
		case errors.As(err, &se) && !se.retryable():
			return fmt.Errorf("%w: route %s: %w", ErrDelivery, r.Name, err)
		case attempt >= n.opts.MaxAttempts:
			return fmt.Errorf("%w: route %s: %d attempts: %w", ErrDelivery, r.Name, attempt, err)
		case se != nil && se.hasRetry:
			if se.retryAfter > n.opts.MaxRetryWait {
				return fmt.Errorf("%w: route %s: retry-after %s exceeds %s: %w",
					ErrDelivery, r.Name, se.retryAfter, n.opts.MaxRetryWait, err)
			}
			wait = se.retryAfter
		default:
			backoff = min(2*backoff, n.opts.MaxBackoff)
		}
		n.m.retries.WithLabelValues(r.Name).Inc()
		n.log.Warn("alert post failed, retrying", "route", r.Name, "attempt", attempt, "wait", wait, "err", err)
		if serr := n.opts.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w: route %s: wait to retry: %w", ErrDelivery, r.Name, errors.Join(err, serr))
		}
	}
}

// postOnce makes one POST; a non-2xx answer is a *statusError.
func (n *Notifier) postOnce(ctx context.Context, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", redact(err))
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	se := &statusError{code: resp.StatusCode, body: truncate(strings.TrimSpace(string(text)), 200)}
	se.retryAfter, se.hasRetry = parseRetryAfter(resp.Header.Get("Retry-After"), n.opts.Now())
	return se
}

// redact drops the URL from a client error: webhook URLs are secrets.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date
// (relative to now). A date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64((1<<63-1)/time.Second) {
			secs = int64((1<<63 - 1) / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}
