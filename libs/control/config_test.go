package control_test

import (
	"github.com/riacho/riacho/libs/configtest"

	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/riacho/riacho/libs/control"
)

func TestLoadConfigAddr(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		defaultAddr string
		want        string
	}{
		{"package default", nil, "", control.DefaultAddr},
		{"service default", nil, "127.0.0.1:9103", "127.0.0.1:9103"},
		{"env wins over service default", map[string]string{"RIACHO_CONTROL_ADDR": ":7000"}, "127.0.0.1:9103", ":7000"},
		{"env wins over package default", map[string]string{"RIACHO_CONTROL_ADDR": "0.0.0.0:9100"}, "", "0.0.0.0:9100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := control.LoadConfig(context.Background(), envconfig.MapLookuper(tt.env), tt.defaultAddr)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tt.want {
				t.Fatalf("Addr = %q, want %q", cfg.Addr, tt.want)
			}
			if cfg.ShutdownTimeout != 5*time.Second || cfg.Insecure {
				t.Fatalf("unexpected defaults: %+v", cfg)
			}
		})
	}
}

func TestLoadConfigTokens(t *testing.T) {
	cfg, err := control.LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{
		"RIACHO_CONTROL_TOKENS":   "ops:abc,def",
		"RIACHO_CONTROL_INSECURE": "true",
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.Tokens) != "ops:abc,def" || !cfg.Insecure {
		t.Fatalf("cfg = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultsNeedATokenOrInsecure(t *testing.T) {
	cfg, err := control.LoadConfig(context.Background(), envconfig.MapLookuper(nil), "")
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if err == nil {
		t.Fatal("defaults without tokens validated")
	}
	for _, v := range []string{"RIACHO_CONTROL_TOKENS", "RIACHO_CONTROL_TOKENS_FILE", "RIACHO_CONTROL_INSECURE"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name %s", err, v)
		}
	}
	cfg.Insecure = true
	if err := cfg.Validate(); err != nil {
		t.Fatalf("insecure defaults: %v", err)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("# ops team\nops:tokenA\n\n  ci:tokenB  \nplainC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("ops:\n:hunter2hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := control.Config{Addr: "127.0.0.1:9100", ShutdownTimeout: time.Second}
	tests := []struct {
		name    string
		mutate  func(*control.Config)
		wantErr []string
	}{
		{"env tokens", func(c *control.Config) { c.Tokens = "ops:a, ci:b" }, nil},
		{"plain tokens", func(c *control.Config) { c.Tokens = "a,b" }, nil},
		{"tokens file", func(c *control.Config) { c.TokensFile = good }, nil},
		{"both sources", func(c *control.Config) { c.Tokens = "x:1"; c.TokensFile = good }, nil},
		{"any interface", func(c *control.Config) { c.Tokens = "a"; c.Addr = ":9100" }, nil},
		{"no tokens", func(*control.Config) {}, []string{"RIACHO_CONTROL_TOKENS", "RIACHO_CONTROL_INSECURE"}},
		{"bad addr", func(c *control.Config) { c.Tokens = "a"; c.Addr = "localhost" }, []string{"RIACHO_CONTROL_ADDR"}},
		{"bad timeout", func(c *control.Config) { c.Tokens = "a"; c.ShutdownTimeout = 0 }, []string{"RIACHO_CONTROL_SHUTDOWN_TIMEOUT"}},
		{"empty token", func(c *control.Config) { c.Tokens = "ops:" }, []string{"RIACHO_CONTROL_TOKENS", "empty token"}},
		{"empty name", func(c *control.Config) { c.Tokens = ":hunter2hunter2" }, []string{"empty name"}},
		{"duplicate name", func(c *control.Config) { c.Tokens = "ops:a,ops:b" }, []string{"duplicate token name \"ops\""}},
		{"missing file", func(c *control.Config) { c.TokensFile = filepath.Join(dir, "nope") }, []string{"RIACHO_CONTROL_TOKENS_FILE"}},
		{"bad file lines", func(c *control.Config) { c.TokensFile = bad }, []string{bad + ":1", bad + ":2"}},
		{"every problem at once", func(c *control.Config) {
			c.Addr = "x"
			c.ShutdownTimeout = -1
		}, []string{"RIACHO_CONTROL_ADDR", "RIACHO_CONTROL_SHUTDOWN_TIMEOUT", "RIACHO_CONTROL_TOKENS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			err := cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			configtest.RequireNames(t, err, tt.wantErr...)
			configtest.RequireNoSecret(t, err, "hunter2")
			if _, nerr := control.New(cfg, "x", "v", nil, control.Hooks{}, nil); nerr == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestTokensFileAuthenticates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("oncall:"+opsToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := start(t, control.Config{TokensFile: path}, control.Hooks{})
	resp, err := f.cli.Status(withToken(opsToken), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetService() != "intake" {
		t.Fatalf("service = %q", resp.GetService())
	}
	if lines := f.logs.lines(t, "control call"); len(lines) != 1 || lines[0]["caller"] != "oncall" {
		t.Fatalf("audit lines %v", lines)
	}
}
