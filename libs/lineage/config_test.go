package lineage_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/envconf"
	"github.com/riacho/riacho/libs/lineage"
)

// TestConfigFromEnv reads every variable, and the defaults equal
// DefaultConfig and validate.
func TestConfigFromEnv(t *testing.T) {
	var def lineage.Config
	if err := envconf.Load(context.Background(), nil, &def); err != nil {
		t.Fatal(err)
	}
	if def != lineage.DefaultConfig() {
		t.Errorf("env defaults %+v differ from DefaultConfig %+v", def, lineage.DefaultConfig())
	}
	if err := def.Validate(); err != nil || def.Enabled() {
		t.Errorf("defaults: Validate %v, Enabled %t; want valid and off", err, def.Enabled())
	}
	var c lineage.Config
	err := envconf.Load(context.Background(), []string{
		"RIACHO_LINEAGE_URL=http://marquez:5000/api/v1/lineage", "RIACHO_LINEAGE_TOPIC=_lineage",
		"RIACHO_LINEAGE_NAMESPACE=acme", "RIACHO_LINEAGE_TOKEN=tok-123", "RIACHO_LINEAGE_QUEUE_SIZE=7",
		"RIACHO_LINEAGE_TIMEOUT=3s", "RIACHO_LINEAGE_RETRIES=0", "RIACHO_LINEAGE_INTERVAL=30s",
	}, &c)
	if err != nil {
		t.Fatal(err)
	}
	want := lineage.Config{URL: "http://marquez:5000/api/v1/lineage", Topic: "_lineage", Namespace: "acme", Token: "tok-123",
		QueueSize: 7, Timeout: 3 * time.Second, Retries: 0, Interval: 30 * time.Second}
	if c != want || !c.Enabled() || c.Validate() != nil {
		t.Errorf("got %+v (valid: %v), want %+v", c, c.Validate(), want)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "lineage", c)
	if s := buf.String() + fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "tok-123") {
		t.Errorf("the token shows: %s", s)
	}
}

// TestConfigValidateNamesVariables reports every problem at once, each
// naming its variable.
func TestConfigValidateNamesVariables(t *testing.T) {
	c := lineage.Config{URL: "ftp://x", Topic: "bad topic", Token: "t", QueueSize: 0, Timeout: 0, Retries: -1}
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, v := range []string{"RIACHO_LINEAGE_URL", "RIACHO_LINEAGE_TOPIC", "RIACHO_LINEAGE_NAMESPACE",
		"RIACHO_LINEAGE_QUEUE_SIZE", "RIACHO_LINEAGE_TIMEOUT", "RIACHO_LINEAGE_RETRIES", "RIACHO_LINEAGE_INTERVAL"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
	c = lineage.DefaultConfig()
	c.Token = "t"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "RIACHO_LINEAGE_TOKEN") {
		t.Errorf("a token without a URL: %v", err)
	}
	if _, err := lineage.New(lineage.Config{URL: "http://x"}, lineage.Options{}); err == nil {
		t.Error("New accepted an invalid configuration")
	}
}

// TestNaming follows the OpenLineage naming conventions, without credentials.
func TestNaming(t *testing.T) {
	for _, tc := range []struct {
		got  lineage.Dataset
		want lineage.Dataset
	}{
		{lineage.KafkaTopic([]string{"b1:9092", "b2:9092"}, "raw.ploomes.leads"), lineage.Dataset{Namespace: "kafka://b1:9092", Name: "raw.ploomes.leads"}},
		{lineage.LakeTable("file:///data/lake/", "raw_ploomes.leads"), lineage.Dataset{Namespace: "file:///data/lake", Name: "raw_ploomes.leads"}},
		{lineage.LakeTable("s3://AKIA:secret@bucket/lake?endpoint=http://127.0.0.1:9000&region=x", "curated_crm.deals"), lineage.Dataset{Namespace: "s3://bucket/lake", Name: "curated_crm.deals"}},
		{lineage.LakeTable("gs://bucket", "t.x"), lineage.Dataset{Namespace: "gs://bucket", Name: "t.x"}},
		{lineage.WarehouseTable("postgres://u:pw@db.internal:6432/analytics?sslmode=require", "fct_subscriptions"), lineage.Dataset{Namespace: "postgres://db.internal:6432", Name: "analytics.public.fct_subscriptions"}},
		{lineage.WarehouseTable("postgresql://u@db/", "mart.dim_customer"), lineage.Dataset{Namespace: "postgres://db:5432", Name: "u.mart.dim_customer"}},
		{lineage.WarehouseTable("duckdb:///srv/wh/warehouse.duckdb", "fct_subscriptions"), lineage.Dataset{Namespace: "duckdb:///srv/wh/warehouse.duckdb", Name: "warehouse.main.fct_subscriptions"}},
		{lineage.WarehouseTable("duckdb::memory:", "t"), lineage.Dataset{Namespace: "duckdb://memory", Name: "memory.main.t"}},
	} {
		if tc.got != tc.want {
			t.Errorf("got %+v, want %+v", tc.got, tc.want)
		}
	}
}
