package chaos

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The demo project's consumer groups: the transform's models and the
// quality gate's models.
var (
	transformGroups = []string{"riacho-transform.raw_ploomes_leads", "riacho-transform.stg_ploomes_leads", "riacho-transform.fct_subscriptions"}
	qualityGroups   = []string{"riacho-quality.stg_ploomes_leads", "riacho-quality.fct_subscriptions"}
)

// rawTopics returns the raw topics the accepted events went to.
func rawTopics(want map[string]accepted) []string {
	set := map[string]bool{}
	for _, e := range want {
		set[e.topic] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// waitSinkDrained waits until the current snapshot of every raw table
// records its topic's high watermark on every partition: the sink has
// committed everything the intake wrote.
func (st *stack) waitSinkDrained(t *testing.T, want map[string]accepted) {
	t.Helper()
	adm := st.admin(t)
	lake := openLake(t, st.lake)
	waitFor(t, 3*time.Minute, "the sink to commit every raw record to the lake", func() (bool, string) {
		st.alive(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var behind []string
		for _, topic := range rawTopics(want) {
			ends, err := endOffsets(ctx, adm, topic)
			if err != nil {
				return false, err.Error()
			}
			got, err := lake.offsets(ctx, topic)
			if err != nil {
				return false, err.Error()
			}
			for p, end := range ends {
				if got[p] != end {
					behind = append(behind, fmt.Sprintf("%s/%d table offset %d of end %d", topic, p, got[p], end))
				}
			}
		}
		slices.Sort(behind)
		return len(behind) == 0, "behind: " + strings.Join(behind, "; ")
	})
}

// waitGateDrained waits until every accepted deal the models carry is in
// curated or quarantine of both gated models and the transform's and the
// gate's groups have committed their inputs up to the end (one transaction
// marker of slack).
func (st *stack) waitGateDrained(t *testing.T, want map[string]accepted) {
	t.Helper()
	adm := st.admin(t)
	for _, m := range gatedModels {
		exp := m.expected(want)
		waitFor(t, 3*time.Minute, fmt.Sprintf("every accepted deal of model %s in curated.%s or quarantine.%s", m.name, m.name, m.name), func() (bool, string) {
			st.alive(t)
			got := st.routed(t, m.name)
			var missing []string
			for id := range exp {
				if got[id] == nil {
					missing = append(missing, id)
				}
			}
			return len(missing) == 0, fmt.Sprintf("%d of %d missing: %s", len(missing), len(exp), fmtIDs(missing, 5))
		})
	}
	groups := append(slices.Clone(transformGroups), qualityGroups...)
	waitFor(t, 3*time.Minute, "the transform's and the gate's groups to commit their inputs to the end", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var behind []string
		for _, g := range groups {
			b, err := groupBehind(ctx, adm, g, 1)
			if err != nil {
				return false, err.Error()
			}
			for _, x := range b {
				behind = append(behind, g+": "+x)
			}
		}
		return len(behind) == 0, strings.Join(behind, "; ")
	})
}

// scrapeCounter reads a counter's value from the service's Prometheus
// /metrics (0 when absent or unreachable); it counts for the running
// process only.
func scrapeCounter(s *service, name string) int64 {
	url := strings.TrimSuffix(s.ready, "/readyz") + "/metrics"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err == nil {
			return int64(v)
		}
	}
	return 0
}
