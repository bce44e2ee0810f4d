package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/configtest"
)

func TestDefaultsValidate(t *testing.T) {
	cfg, err := LoadConfig(context.Background(), []string{"RIACHO_CONTROL_INSECURE=true"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	wd, _ := os.Getwd()
	lakeURL, catalogURI, err := cfg.ResolveLake()
	if err != nil {
		t.Fatal(err)
	}
	if want := "file://" + filepath.Join(wd, "data", "lake"); lakeURL != want {
		t.Errorf("lake %s, want %s", lakeURL, want)
	}
	if want := "sqlite://" + filepath.Join(wd, "data", "lake", "_catalog", "catalog.db"); catalogURI != want {
		t.Errorf("catalog %s, want %s", catalogURI, want)
	}
	for name, ok := range map[string]bool{
		"topics":      cfg.Topics == `^raw\..*`,
		"group":       cfg.Group == "riacho-sink",
		"control":     cfg.Control.Addr == "127.0.0.1:9103",
		"ops":         cfg.OpsAddr == "127.0.0.1:9203",
		"records":     cfg.RotateRecords == 100_000,
		"bytes":       cfg.RotateBytes == 128<<20,
		"interval":    cfg.RotateInterval == time.Minute,
		"compression": cfg.Compression == "snappy",
		"dlq":         cfg.DLQTopic == "dlq.sink",
		"event time":  strings.Join(cfg.EventTimeFields, ",") == "event_time,source.ts_ms,ts_ms,timestamp,created_at",
		"layout":      cfg.Layout == "{zone}/{source}/year={yyyy}/month={mm}/day={dd}/{entity}_{yyyymmdd}_{seq}.parquet",
	} {
		if !ok {
			t.Errorf("default %s is wrong: %+v", name, cfg)
		}
	}
}

func TestConfigErrorsNameTheirVariables(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"RIACHO_SINK_TOPICS=("}, []string{"RIACHO_SINK_TOPICS"}},
		{[]string{"RIACHO_SINK_TOPICS=.*"}, []string{"RIACHO_SINK_TOPICS", "RIACHO_SINK_DLQ_TOPIC"}},
		{[]string{"RIACHO_SINK_LAYOUT={zone}/{nope}.parquet"}, []string{"RIACHO_SINK_LAYOUT"}},
		{[]string{"RIACHO_SINK_ROTATE_RECORDS=0", "RIACHO_SINK_ROTATE_INTERVAL=0s"}, []string{"RIACHO_SINK_ROTATE_RECORDS", "RIACHO_SINK_ROTATE_INTERVAL"}},
		{[]string{"RIACHO_SINK_COMPRESSION=brotli"}, []string{"RIACHO_SINK_COMPRESSION"}},
		{[]string{"RIACHO_SINK_EVENT_TIME_FIELDS=a,,b."}, []string{"RIACHO_SINK_EVENT_TIME_FIELDS"}},
		{[]string{"RIACHO_SINK_OPS_ADDR=nonsense"}, []string{"RIACHO_SINK_OPS_ADDR"}},
		{[]string{"RIACHO_SINK_LAKE_URL=s3://bucket?region=us-east-1"}, []string{"RIACHO_SINK_CATALOG_URI"}},
	} {
		t.Run(strings.Join(tc.env, " "), func(t *testing.T) {
			cfg, err := LoadConfig(context.Background(), append(tc.env, "RIACHO_CONTROL_INSECURE=true"))
			if err == nil {
				err = cfg.Validate()
			}
			configtest.RequireNames(t, err, tc.want...)
		})
	}
	_, err := LoadConfig(context.Background(), []string{"RIACHO_SINK_ROTATE_BYTES=12 parsecs"})
	configtest.RequireNames(t, err, "RIACHO_SINK_ROTATE_BYTES")
}

func TestCatalogURIIsNotPrinted(t *testing.T) {
	cfg, err := LoadConfig(context.Background(), []string{
		"RIACHO_CONTROL_INSECURE=true", "RIACHO_SINK_LAKE_URL=s3://b?region=x",
		"RIACHO_SINK_CATALOG_URI=postgres://sink:s3cr3t-pw@db/catalog", "RIACHO_SINK_ROTATE_RECORDS=0",
	})
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	configtest.RequireNames(t, err, "RIACHO_SINK_ROTATE_RECORDS")
	configtest.RequireNoSecret(t, err, "s3cr3t-pw")
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1024": 1024, "128MiB": 128 << 20, "100MB": 100e6, "2 GiB": 2 << 30, "5kb": 5000} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.5MB", "3 parsecs", "99999999999999999999"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestResolveLakeForms(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]string{
		dir:                       "file://" + dir,
		"file://" + dir:           "file://" + dir,
		"s3://bucket?region=eu-1": "s3://bucket?region=eu-1",
		"gs://bucket":             "gs://bucket",
	} {
		cfg := Config{LakeURL: in, CatalogURI: "sqlite:///tmp/x.db"}
		got, _, err := cfg.ResolveLake()
		if err != nil || got != want {
			t.Errorf("ResolveLake(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
