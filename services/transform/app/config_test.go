package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValidate(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig(context.Background(), []string{"RIACHO_CONTROL_INSECURE=true", "RIACHO_TRANSFORM_PROJECT=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	for name, ok := range map[string]bool{
		"control":     cfg.Control.Addr == "127.0.0.1:9104",
		"ops":         cfg.OpsAddr == "127.0.0.1:9204",
		"dlq":         cfg.DLQTopic == "dlq.transform",
		"group":       cfg.GroupPrefix == "riacho-transform",
		"target":      cfg.Target == "dev",
		"masking":     cfg.Masking == "auto" && cfg.MaskingOn(),
		"transaction": cfg.TransactionTimeout == time.Minute,
		"session":     cfg.SessionTimeout == 45*time.Second,
	} {
		if !ok {
			t.Errorf("default %s is wrong: %+v", name, cfg)
		}
	}
	ec, err := cfg.EngineConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.Validate(); err != nil {
		t.Errorf("engine defaults do not validate: %v", err)
	}
	if h, _ := os.Hostname(); h != "" && ec.InstanceID != h {
		t.Errorf("instance id %q, want the host name %q", ec.InstanceID, h)
	}
}

func TestMaskingFollowsTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env, masking string
		on           bool
	}{
		{"development", "auto", true},
		{"staging", "auto", true},
		{"production", "auto", false},
		{"prod", "auto", false},
		{"production", "on", true},
		{"development", "off", false},
	} {
		c := Config{Env: tc.env, Masking: tc.masking}
		if got := c.MaskingOn(); got != tc.on {
			t.Errorf("RIACHO_ENV=%s RIACHO_TRANSFORM_MASKING=%s: masking %v, want %v", tc.env, tc.masking, got, tc.on)
		}
	}
}

func TestConfigErrorsNameTheirVariables(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"RIACHO_TRANSFORM_PROJECT=" + filepath.Join(dir, "nope")}, []string{"RIACHO_TRANSFORM_PROJECT"}},
		{[]string{"RIACHO_TRANSFORM_VARS=[1, 2"}, []string{"RIACHO_TRANSFORM_VARS"}},
		{[]string{"RIACHO_TRANSFORM_MASKING=sometimes"}, []string{"RIACHO_TRANSFORM_MASKING"}},
		{[]string{"RIACHO_TRANSFORM_MASK_KEY=short"}, []string{"RIACHO_TRANSFORM_MASK_KEY"}},
		{[]string{"RIACHO_TRANSFORM_MASK_KEY_FILE=" + keyFile}, []string{"RIACHO_TRANSFORM_MASK_KEY"}},
		{[]string{"RIACHO_TRANSFORM_TRANSACTION_TIMEOUT=10ms", "RIACHO_TRANSFORM_OUTPUT_PARTITIONS=-1"},
			[]string{"RIACHO_TRANSFORM_TRANSACTION_TIMEOUT", "RIACHO_TRANSFORM_OUTPUT_PARTITIONS"}},
		{[]string{"RIACHO_TRANSFORM_SESSION_TIMEOUT=0s"}, []string{"RIACHO_TRANSFORM_SESSION_TIMEOUT"}},
		{[]string{"RIACHO_TRANSFORM_OPS_ADDR=nope", "RIACHO_TRANSFORM_DLQ_TOPIC= "}, []string{"RIACHO_TRANSFORM_OPS_ADDR", "RIACHO_TRANSFORM_DLQ_TOPIC"}},
	} {
		env := append([]string{"RIACHO_CONTROL_INSECURE=true", "RIACHO_TRANSFORM_PROJECT=" + dir}, tc.env...)
		cfg, err := LoadConfig(context.Background(), env)
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil {
			t.Errorf("%v: no error", tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not name %s", tc.env, err, w)
			}
		}
	}
}

func TestProjectVars(t *testing.T) {
	for in, want := range map[string]string{
		`{"start_date": "2026-01-01"}`: "2026-01-01",
		"start_date: '2026-01-01'":     "2026-01-01",
	} {
		c := Config{Vars: in}
		vars, err := c.ProjectVars()
		if err != nil || vars["start_date"] != want {
			t.Errorf("vars %q: %v, %v", in, vars, err)
		}
	}
}
