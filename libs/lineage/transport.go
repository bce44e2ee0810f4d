package lineage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
	"github.com/riacho/riacho/libs/telemetry"
)

// transport delivers one encoded event.
type transport interface {
	name() string
	// send returns nil, a *permanentError (not retried) or another error (retried).
	send(ctx context.Context, key string, body []byte) error
	// setFailing records the transport's state and reports whether it changed.
	setFailing(bool) bool
	close()
}

// permanentError is a failure that another try would repeat.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// failState remembers whether a transport's last event failed.
type failState struct{ failing atomic.Bool }

func (f *failState) setFailing(v bool) bool { return f.failing.Swap(v) != v }

// httpTransport POSTs events to an OpenLineage HTTP endpoint.
type httpTransport struct {
	failState
	url    string
	token  string
	client *http.Client
}

func (*httpTransport) name() string { return "http" }

func (h *httpTransport) send(ctx context.Context, _ string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return &permanentError{fmt.Errorf("lineage POST %s: %w", telemetry.RedactURL(h.url), err)}
	}
	req.Header.Set("Content-Type", "application/json")
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("lineage POST %s: %w", telemetry.RedactURL(h.url), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("lineage POST %s: %s: %s", telemetry.RedactURL(h.url), resp.Status, strings.TrimSpace(string(snippet)))
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
		return err
	}
	return &permanentError{err}
}

func (*httpTransport) close() {}

// kafkaTransport produces events to a topic, keyed by job name.
type kafkaTransport struct {
	failState
	topic string
	p     *kafka.Producer

	ensureMu sync.Mutex
	ensured  bool
}

func newKafkaTransport(topic string, cfg kafka.Config) (*kafkaTransport, error) {
	p, err := kafka.NewProducer(cfg, kafka.ProducerOptions{Linger: -1})
	if err != nil {
		return nil, err
	}
	return &kafkaTransport{topic: topic, p: p}, nil
}

func (*kafkaTransport) name() string { return "kafka" }

func (k *kafkaTransport) send(ctx context.Context, key string, body []byte) error {
	if err := k.ensure(ctx); err != nil {
		return err
	}
	rec := &kgo.Record{Topic: k.topic, Key: []byte(key), Value: body}
	if err := k.p.ProduceAll(ctx, []*kgo.Record{rec}); err != nil {
		return fmt.Errorf("lineage topic %s: %w", k.topic, err)
	}
	return nil
}

// ensure creates the topic once, when it is missing.
func (k *kafkaTransport) ensure(ctx context.Context) error {
	k.ensureMu.Lock()
	defer k.ensureMu.Unlock()
	if k.ensured {
		return nil
	}
	if err := kafka.EnsureTopics(ctx, k.p.Client(), kafka.TopicSpec{Name: k.topic}); err != nil {
		return fmt.Errorf("lineage topic: %w", err)
	}
	k.ensured = true
	return nil
}

func (k *kafkaTransport) close() { k.p.Close() }
