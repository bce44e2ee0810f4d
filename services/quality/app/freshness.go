package app

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/kafka"
)

var rawTopic = regexp.MustCompile(`^raw\.([a-z0-9_]+)\.`)

// watchFreshness checks, every FreshnessInterval, the newest record of
// every raw.<source>.* topic against the source's SLA and alerts on each
// new breach.
func (s *Service) watchFreshness(ctx context.Context) {
	t := time.NewTicker(s.cfg.FreshnessInterval)
	defer t.Stop()
	for {
		s.observeRaw(ctx)
		for _, b := range s.fresh.Check(time.Now()) {
			s.send(b.Alert())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observeRaw feeds the tracker the timestamp of the newest record of each
// raw topic partition.
func (s *Service) observeRaw(ctx context.Context) {
	cl, err := kafka.NewClient(s.cfg.Kafka)
	if err != nil {
		s.log.Warn("freshness: kafka client", "error", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		s.log.Warn("freshness: list topics", "error", err)
		return
	}
	var names []string
	for _, name := range topics.Names() {
		if rawTopic.MatchString(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return
	}
	starts, err := adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return
	}
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return
	}
	from := map[string]map[int32]kgo.Offset{}
	want := 0
	ends.Each(func(o kadm.ListedOffset) {
		st, _ := starts.Lookup(o.Topic, o.Partition)
		if o.Err != nil || o.Offset <= st.Offset {
			return
		}
		if from[o.Topic] == nil {
			from[o.Topic] = map[int32]kgo.Offset{}
		}
		from[o.Topic][o.Partition] = kgo.NewOffset().At(o.Offset - 1)
		want++
	})
	if want == 0 {
		return
	}
	rd, err := kafka.NewClient(s.cfg.Kafka, kgo.ConsumePartitions(from))
	if err != nil {
		return
	}
	defer rd.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for len(seen) < want && pctx.Err() == nil {
		rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			seen[r.Topic+"/"+strconv.Itoa(int(r.Partition))] = true
			if m := rawTopic.FindStringSubmatch(r.Topic); m != nil {
				s.fresh.Observe(strings.ToLower(m[1]), r.Timestamp)
			}
		})
	}
}
