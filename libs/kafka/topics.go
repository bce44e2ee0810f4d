package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicSpec describes a topic EnsureTopics creates when it is missing.
// A zero Partitions or ReplicationFactor asks for the broker's default.
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Configs           map[string]string
}

// EnsureTopics creates every topic in specs that does not exist yet. It is
// idempotent and safe under concurrent callers: a topic that exists, or that
// another caller creates first, is fine. Existing topics are left as they
// are (their partition count and configs are not changed). The error names
// each topic that could not be checked or created.
func EnsureTopics(ctx context.Context, cl *kgo.Client, specs ...TopicSpec) error {
	if len(specs) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(specs))
	names := make([]string, 0, len(specs))
	var errs []error
	for _, s := range specs {
		switch {
		case s.Name == "":
			errs = append(errs, errors.New("ensure topics: empty topic name"))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("ensure topic %s: listed twice", s.Name))
		case s.Partitions < 0 || s.ReplicationFactor < 0:
			errs = append(errs, fmt.Errorf("ensure topic %s: negative partitions or replication factor", s.Name))
		default:
			seen[s.Name] = true
			names = append(names, s.Name)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	existing, err := describeTopics(ctx, cl, names)
	if err != nil {
		return fmt.Errorf("ensure topics: describe %v: %w", names, err)
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30_000
	for _, s := range specs {
		derr, ok := existing[s.Name]
		switch {
		case ok && derr == nil:
			continue // exists
		case ok && !errors.Is(derr, kerr.UnknownTopicOrPartition):
			errs = append(errs, fmt.Errorf("ensure topic %s: describe: %w", s.Name, derr))
			continue
		}
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic = s.Name
		t.NumPartitions = orDefault(s.Partitions)
		t.ReplicationFactor = s.ReplicationFactor
		if t.ReplicationFactor == 0 {
			t.ReplicationFactor = -1
		}
		for k, v := range s.Configs {
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name = k
			c.Value = kmsg.StringPtr(v)
			t.Configs = append(t.Configs, c)
		}
		req.Topics = append(req.Topics, t)
	}
	if len(req.Topics) == 0 {
		return errors.Join(errs...)
	}

	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		for _, t := range req.Topics {
			errs = append(errs, fmt.Errorf("ensure topic %s: create: %w", t.Topic, err))
		}
		return errors.Join(errs...)
	}
	answered := make(map[string]bool, len(resp.Topics))
	for _, t := range resp.Topics {
		answered[t.Topic] = true
		err := kerr.ErrorForCode(t.ErrorCode)
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			continue
		}
		if t.ErrorMessage != nil && *t.ErrorMessage != "" {
			err = fmt.Errorf("%w: %s", err, *t.ErrorMessage)
		}
		errs = append(errs, fmt.Errorf("ensure topic %s: create: %w", t.Topic, err))
	}
	for _, t := range req.Topics {
		if !answered[t.Topic] {
			errs = append(errs, fmt.Errorf("ensure topic %s: create: no answer from broker", t.Topic))
		}
	}
	return errors.Join(errs...)
}

// describeTopics asks a broker (bypassing the client's metadata cache)
// about names and returns each topic's error code as an error.
func describeTopics(ctx context.Context, cl *kgo.Client, names []string) (map[string]error, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, n := range names {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(n)
		req.Topics = append(req.Topics, t)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := make(map[string]error, len(resp.Topics))
	for _, t := range resp.Topics {
		if t.Topic != nil {
			out[*t.Topic] = kerr.ErrorForCode(t.ErrorCode)
		}
	}
	return out, nil
}

// orDefault maps 0 to -1, Kafka's "use the broker default".
func orDefault(n int32) int32 {
	if n == 0 {
		return -1
	}
	return n
}
