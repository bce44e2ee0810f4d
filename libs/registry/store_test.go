package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readTopic returns every record of partition 0 of topic up to its end offset.
func readTopic(t testing.TB, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := offs.Lookup(topic, 0)
	var out []*kgo.Record
	for end.Offset > 0 && (len(out) == 0 || out[len(out)-1].Offset < end.Offset-1) {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %v after %d records", topic, ctx.Err(), len(out))
		}
		out = append(out, f.Records()...)
	}
	return out
}

// produce writes raw records to topic.
func produce(t testing.TB, brokers []string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// snapshot reads everything the API exposes about the registry's contents.
func snapshot(t *testing.T, c *apiClient) map[string]any {
	t.Helper()
	out := map[string]any{}
	var subjects []string
	c.ok(http.MethodGet, "/subjects?deleted=true", nil, &subjects)
	out["subjects"] = subjects
	var live []string
	c.ok(http.MethodGet, "/subjects", nil, &live)
	out["live"] = live
	for _, s := range subjects {
		var versions []int
		c.ok(http.MethodGet, "/subjects/"+s+"/versions?deleted=true", nil, &versions)
		out[s] = versions
		for _, v := range versions {
			var sr schemaResponse
			c.ok(http.MethodGet, fmt.Sprintf("/subjects/%s/versions/%d?deleted=true", s, v), nil, &sr)
			out[fmt.Sprintf("%s/%d", s, v)] = sr
			var byID map[string]string
			c.ok(http.MethodGet, "/schemas/ids/"+itoa(sr.ID), nil, &byID)
			out[fmt.Sprintf("id/%d", sr.ID)] = byID["schema"]
		}
		var cfg configResponse
		c.ok(http.MethodGet, "/config/"+s+"?defaultToGlobal=true", nil, &cfg)
		out["config/"+s] = cfg
	}
	var cfg configResponse
	c.ok(http.MethodGet, "/config", nil, &cfg)
	out["config"] = cfg
	return out
}

// populate registers a mix of subjects, versions, configs and deletes and
// returns the largest id used.
func populate(t *testing.T, c *apiClient) int {
	t.Helper()
	c.setLevel("", FullTransitive)
	c.setLevel("loose", None)
	maxID := 0
	for _, s := range []string{rec(fID), rec(fNameString), `"int"`, rec(fID, fB)} {
		maxID = max(maxID, c.register("loose", s))
	}
	maxID = max(maxID, c.register("strict", rec(fID)))
	maxID = max(maxID, c.register("strict", rec(fID, fBDefault)))
	maxID = max(maxID, c.register("shared", rec(fID)))
	c.ok(http.MethodDelete, "/subjects/loose/versions/2", nil, nil)
	c.ok(http.MethodDelete, "/subjects/loose/versions/2?permanent=true", nil, nil)
	c.ok(http.MethodDelete, "/subjects/loose/versions/3", nil, nil)
	c.register("gone", `"bytes"`)
	c.ok(http.MethodDelete, "/subjects/gone", nil, nil)
	c.ok(http.MethodDelete, "/subjects/gone?permanent=true", nil, nil)
	return maxID
}

func TestRestartOverSameCluster(t *testing.T) {
	// A fast cleaner so the topic is compacted (offsets with gaps) before the restart.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.BrokerConfigs(map[string]string{"log.cleaner.backoff.ms": "50"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()
	prom := prometheus.NewRegistry()

	r1 := newRegistry(t, brokers, testConfig(), prom)
	c1 := serve(t, r1)
	maxID := populate(t, c1)
	before := snapshot(t, c1)
	r1.Close()

	// Compaction leaves gaps: fewer records than offsets.
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := readTopic(t, brokers, "_schemas")
		if last := recs[len(recs)-1].Offset; int64(len(recs)) < last+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic of %d records was not compacted", len(recs))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Same Prometheus registerer: Close released the collectors.
	r2 := newRegistry(t, brokers, testConfig(), prom)
	c2 := serve(t, r2)
	after := snapshot(t, c2)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("state after restart differs:\nbefore %v\nafter  %v", before, after)
	}
	if id := c2.register("fresh", `{"type":"fixed","name":"F","size":4}`); id <= maxID {
		t.Fatalf("new schema after restart got id %d, not above %d", id, maxID)
	}
	// An already registered schema keeps its id under a new subject.
	var v schemaResponse
	c2.ok(http.MethodGet, "/subjects/strict/versions/1", nil, &v)
	if id := c2.register("another", rec(fID)); id != v.ID {
		t.Fatalf("known schema got id %d after restart, want %d", id, v.ID)
	}
}

func TestRestartBroker(t *testing.T) {
	dir := t.TempDir()
	c1, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	r1 := newRegistry(t, c1.ListenAddrs(), testConfig(), nil)
	api1 := serve(t, r1)
	maxID := populate(t, api1)
	before := snapshot(t, api1)
	r1.Close()
	c1.Close()

	c2, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.Close)
	r2 := newRegistry(t, c2.ListenAddrs(), testConfig(), nil)
	api2 := serve(t, r2)
	if after := snapshot(t, api2); !reflect.DeepEqual(before, after) {
		t.Fatalf("state after broker restart differs:\nbefore %v\nafter  %v", before, after)
	}
	if id := api2.register("fresh", `"double"`); id <= maxID {
		t.Fatalf("new id %d is not above %d", id, maxID)
	}
}

func TestRecordFormat(t *testing.T) {
	cluster, _, c := start(t)
	id := c.register("orders-value", rec(fID))
	c.setLevel("", Full)
	c.setLevel("orders-value", None)
	c.ok(http.MethodDelete, "/subjects/orders-value/versions/1", nil, nil)

	recs := readTopic(t, cluster.ListenAddrs(), "_schemas")
	got := make([]string, len(recs))
	for i, r := range recs {
		got[i] = string(r.Key) + " => " + string(r.Value)
	}
	schemaJSON, _ := json.Marshal(rec(fID))
	want := []string{
		`{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1} => {"subject":"orders-value","version":1,"id":` +
			itoa(id) + `,"schema":` + string(schemaJSON) + `,"deleted":false}`,
		`{"keytype":"CONFIG","subject":null,"magic":0} => {"compatibilityLevel":"FULL"}`,
		`{"keytype":"CONFIG","subject":"orders-value","magic":0} => {"compatibilityLevel":"NONE"}`,
		`{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1} => {"subject":"orders-value","version":1,"id":` +
			itoa(id) + `,"schema":` + string(schemaJSON) + `,"deleted":true}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("topic records:\n%s\nwant:\n%s", got, want)
	}

	// The topic is compacted with one partition.
	adm := kadm.NewClient(c.mustClient(cluster))
	cfgs, err := adm.DescribeTopicConfigs(context.Background(), "_schemas")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfgs.On("_schemas", nil)
	if err != nil {
		t.Fatal(err)
	}
	var policy string
	for _, cf := range rc.Configs {
		if cf.Key == "cleanup.policy" && cf.Value != nil {
			policy = *cf.Value
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy = %q", policy)
	}
}

// mustClient returns a franz-go client of cluster closed with the test.
func (c *apiClient) mustClient(cluster *kfake.Cluster) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

func TestReadsConfluentRecords(t *testing.T) {
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	if err := cluster.CreateTopic("_schemas", 1, map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatal(err)
	}
	// Records as Confluent's registry writes them, with noise it must skip.
	schema := `{"type":"record","name":"Payment","fields":[{"name":"amount","type":"double"}]}`
	sv := func(subject string, version, id int, deleted bool) []byte {
		b, _ := json.Marshal(map[string]any{"subject": subject, "version": version, "id": id, "schema": schema, "deleted": deleted})
		return b
	}
	produce(t, brokers,
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"NOOP","magic":0}`)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"SCHEMA","subject":"payments-value","version":1,"magic":1}`), Value: sv("payments-value", 1, 21, false)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"SCHEMA","subject":"payments-key","version":1,"magic":1}`), Value: sv("payments-key", 1, 21, false)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"SCHEMA","subject":"old","version":1,"magic":1}`), Value: sv("old", 1, 40, false)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"SCHEMA","subject":"old","version":1,"magic":1}`)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"SCHEMA","subject":"proto","version":1,"magic":1}`),
			Value: []byte(`{"subject":"proto","version":1,"id":30,"schemaType":"PROTOBUF","schema":"syntax = \"proto3\";","deleted":false}`)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"CONFIG","subject":null,"magic":0}`), Value: []byte(`{"compatibilityLevel":"FORWARD","normalize":null}`)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"MODE","subject":null,"magic":0}`), Value: []byte(`{"mode":"READWRITE"}`)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`not json`), Value: []byte(`{}`)},
		&kgo.Record{Topic: "_schemas", Key: []byte(`{"keytype":"SCHEMA","subject":"bad","version":1,"magic":1}`), Value: []byte(`{`)},
	)

	r := newRegistry(t, brokers, testConfig(), nil)
	c := serve(t, r)
	var subjects []string
	c.ok(http.MethodGet, "/subjects", nil, &subjects)
	if !reflect.DeepEqual(subjects, []string{"payments-key", "payments-value"}) {
		t.Fatalf("subjects = %v", subjects)
	}
	var cfg configResponse
	c.ok(http.MethodGet, "/config", nil, &cfg)
	if cfg.CompatibilityLevel != Forward {
		t.Fatalf("global level = %+v", cfg)
	}
	// The same schema reformatted finds Confluent's id; a new one gets an id
	// above every id seen in the topic, hard-deleted ones included.
	pretty := `{"type": "record", "name": "Payment", "fields": [{"name": "amount", "type": "double"}]}`
	if id := c.register("payments-copy", pretty); id != 21 {
		t.Fatalf("known schema got id %d, want 21", id)
	}
	if id := c.register("fresh", `"long"`); id != 41 {
		t.Fatalf("new schema got id %d, want 41", id)
	}
}

func TestSecondInstanceSeesWrites(t *testing.T) {
	cluster := newCluster(t)
	a := serve(t, newRegistry(t, cluster.ListenAddrs(), testConfig(), nil))
	b := serve(t, newRegistry(t, cluster.ListenAddrs(), testConfig(), nil))
	id := a.register("seen-value", rec(fID))
	a.setLevel("seen-value", Full)
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _ := b.do(http.MethodGet, "/schemas/ids/"+itoa(id), nil)
		var cfg configResponse
		cs, body := b.do(http.MethodGet, "/config/seen-value", nil)
		_ = json.Unmarshal(body, &cfg)
		if status == http.StatusOK && cs == http.StatusOK && cfg.Compatibility == Full {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second instance did not see the write: schema status %d, config %d %s", status, cs, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var v schemaResponse
	b.ok(http.MethodGet, "/subjects/seen-value/versions/latest", nil, &v)
	if v.ID != id || v.Version != 1 {
		t.Fatalf("second instance latest = %+v", v)
	}
}

func TestStoreUnavailable(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.WriteTimeout = 1500 * time.Millisecond
	r := newRegistry(t, cluster.ListenAddrs(), cfg, nil)
	c := serve(t, r)
	c.register("s", `"int"`)
	cluster.Close()
	began := time.Now()
	e := c.fail(http.MethodPost, "/subjects/s2/versions", map[string]string{"schema": `"long"`}, 500, CodeStoreError)
	if time.Since(began) > 10*time.Second {
		t.Fatalf("store error took %v", time.Since(began))
	}
	t.Logf("store error after %v: %s", time.Since(began), e.Message)
	// Reads are served from memory.
	c.ok(http.MethodGet, "/subjects/s/versions/1", nil, nil)
	c.fail(http.MethodPut, "/config", map[string]string{"compatibility": "NONE"}, 500, CodeStoreError)
}

func TestTopicMisconfigured(t *testing.T) {
	tests := []struct {
		name       string
		partitions int32
		configs    map[string]string
	}{
		{"delete policy", 1, map[string]string{"cleanup.policy": "delete"}},
		{"default policy", 1, nil},
		{"three partitions", 3, map[string]string{"cleanup.policy": "compact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster := newCluster(t)
			if err := cluster.CreateTopic("_schemas", tt.partitions, tt.configs); err != nil {
				t.Fatal(err)
			}
			r, err := New(cluster.ListenAddrs(), testConfig(), testLogger(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			err = r.Start(context.Background())
			if !errors.Is(err, ErrTopicMisconfigured) {
				t.Fatalf("Start = %v, want ErrTopicMisconfigured", err)
			}
			if r.Ready() {
				t.Fatal("ready after a failed Start")
			}
		})
	}
}

func TestExistingTopicIsTolerated(t *testing.T) {
	cluster := newCluster(t)
	if err := cluster.CreateTopic("custom", 1, map[string]string{"cleanup.policy": "compact,delete"}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Topic = "custom"
	c := serve(t, newRegistry(t, cluster.ListenAddrs(), cfg, nil))
	c.register("s", `"int"`)
	if n := len(readTopic(t, cluster.ListenAddrs(), "custom")); n != 1 {
		t.Fatalf("custom topic has %d records, want 1", n)
	}
}
