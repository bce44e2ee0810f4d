package envconf

import (
	"context"
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
