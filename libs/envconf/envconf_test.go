package envconf

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Addr    string        `env:"RIACHO_X_ADDR, default=127.0.0.1:1"`
	Timeout time.Duration `env:"RIACHO_X_TIMEOUT, default=5s"`
	Keep    string        `env:"RIACHO_X_KEEP"`
}

func TestLoad(t *testing.T) {
	cfg := sample{Keep: "preset"}
	err := Load(context.Background(), []string{"RIACHO_X_TIMEOUT=2s", "JUNK", "RIACHO_X_ADDR=a:1", "RIACHO_X_ADDR=b:2"}, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "b:2" || cfg.Timeout != 2*time.Second || cfg.Keep != "preset" {
		t.Fatalf("%+v", cfg)
	}
}

func TestLoadErrorNamesTheVariable(t *testing.T) {
	var cfg sample
	err := Load(context.Background(), []string{"RIACHO_X_TIMEOUT=soon"}, &cfg)
	if err == nil || !strings.Contains(err.Error(), "RIACHO_X_TIMEOUT: ") {
		t.Fatalf("error %v", err)
	}
}

func TestMap(t *testing.T) {
	m := Map([]string{"A=1", "B=x=y", "C"})
	if len(m) != 2 || m["A"] != "1" || m["B"] != "x=y" {
		t.Fatalf("%v", m)
	}
}

func TestVariables(t *testing.T) {
	type inner struct {
		Brokers []string `env:"X_BROKERS, default=a:1,b:2"`
	}
	type cfg struct {
		Name   string        `env:"X_NAME, required"`
		Addr   string        `env:"X_ADDR, overwrite, default="`
		Wait   time.Duration `env:"X_WAIT"`
		Kafka  inner
		hidden string
	}
	_ = cfg{}.hidden
	got := Variables(&cfg{})
	want := []Variable{
		{Name: "X_NAME", Required: true, Field: "Name", Type: "string"},
		{Name: "X_ADDR", HasDefault: true, Field: "Addr", Type: "string"},
		{Name: "X_WAIT", Field: "Wait", Type: "time.Duration"},
		{Name: "X_BROKERS", Default: "a:1,b:2", HasDefault: true, Field: "Kafka.Brokers", Type: "[]string"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Variables =\n%+v\nwant\n%+v", got, want)
	}
	if Variables(42) != nil {
		t.Error("a non-struct has variables")
	}
}
