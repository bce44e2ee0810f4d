package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// registryReader decodes Confluent wire-format values with the writer
// schemas it fetches from the schema registry's REST API, as any Confluent
// deserializer would.
type registryReader struct {
	url    string
	mu     sync.Mutex
	codecs map[uint32]*goavro.Codec
}

func newRegistryReader(url string) *registryReader {
	return &registryReader{url: url, codecs: map[uint32]*goavro.Codec{}}
}

// decode returns the Avro record of a wire-format value.
func (r *registryReader) decode(ctx context.Context, b []byte) (map[string]any, error) {
	if len(b) < 5 || b[0] != 0 {
		return nil, fmt.Errorf("value of %d bytes is not in the Confluent wire format (magic byte 0, schema id)", len(b))
	}
	id := binary.BigEndian.Uint32(b[1:5])
	codec, err := r.codec(ctx, id)
	if err != nil {
		return nil, err
	}
	native, rest, err := codec.NativeFromBinary(b[5:])
	if err != nil {
		return nil, fmt.Errorf("decode with schema %d: %w", id, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode with schema %d: %d bytes left over", id, len(rest))
	}
	rec, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema %d: value is a %T, not a record", id, native)
	}
	return rec, nil
}

// codec fetches GET /schemas/ids/{id} once.
func (r *registryReader) codec(ctx context.Context, id uint32) (*goavro.Codec, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.codecs[id]; ok {
		return c, nil
	}
	url := fmt.Sprintf("%s/schemas/ids/%d", r.url, id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", url, resp.Status)
	}
	var body struct {
		Schema string `json:"schema"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	c, err := goavro.NewCodec(body.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema %d from the registry: %w", id, err)
	}
	r.codecs[id] = c
	return c, nil
}

// field returns a record field, unwrapping a union ({"string": v} → v).
func field(rec map[string]any, name string) any {
	v := rec[name]
	if u, ok := v.(map[string]any); ok && len(u) == 1 {
		for _, inner := range u {
			if _, isRecord := inner.(map[string]any); !isRecord {
				return inner
			}
		}
	}
	return v
}

// fieldText is a field as text ("" when null).
func fieldText(rec map[string]any, name string) string {
	v := field(rec, name)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// seen is one consumed record with its decoded value (nil for a tombstone
// or an undecodable value, whose error is in err).
type seen struct {
	rec   *kgo.Record
	value map[string]any
	err   error
}

// header returns the record's header value.
func (s seen) header(key string) string {
	for _, h := range s.rec.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// consumer reads topics from their start with read_committed, so only
// committed transactional records are seen.
func (h *harness) consumer(topics ...string) (*kgo.Client, error) {
	return kgo.NewClient(
		kgo.SeedBrokers(h.opts.KafkaAddr),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.MetadataMinAge(250*time.Millisecond),
	)
}

// errNotFound means no consumed record matched before the deadline.
var errNotFound = errors.New("no matching record")

// await consumes topic from its start until match accepts a record, and
// returns every record read up to and including it.
func (h *harness) await(ctx context.Context, topic string, timeout time.Duration, match func(seen) bool) ([]seen, error) {
	cl, err := h.consumer(topic)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var all []seen
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return all, fmt.Errorf("%w on %s within %s (%d records read)", errNotFound, topic, timeout, len(all))
		}
		var ferr error
		fs.EachError(func(t string, p int32, e error) { ferr = errors.Join(ferr, fmt.Errorf("fetch %s/%d: %w", t, p, e)) })
		if ferr != nil {
			return all, ferr
		}
		for _, r := range fs.Records() {
			s := seen{rec: r}
			if r.Value != nil {
				s.value, s.err = h.reg.decode(ctx, r.Value)
			}
			all = append(all, s)
			if s.err == nil && match(s) {
				return all, nil
			}
		}
	}
}

// mustAwait is await failing tb with what was expected.
func (h *harness) mustAwait(tb testing.TB, topic, what string, match func(seen) bool) []seen {
	tb.Helper()
	all, err := h.await(context.Background(), topic, stepTimeout, match)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	for _, s := range all {
		if s.err != nil {
			tb.Errorf("%s/%d@%d: %v", topic, s.rec.Partition, s.rec.Offset, s.err)
		}
	}
	return all
}

// endOffsets returns the number of records (summed end offsets) of each
// topic; a topic that does not exist counts 0.
func (h *harness) endOffsets(ctx context.Context, topics ...string) (map[string]int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.opts.KafkaAddr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %v: %w", topics, err)
	}
	out := make(map[string]int64, len(topics))
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Topic] += o.Offset
		}
	})
	return out, nil
}
