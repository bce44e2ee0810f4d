package devstack

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/pgtest"
)

// TestStackCapturesTheDemoTable runs devstack with demo traffic and a
// reachable demo database: the CDC must start, snapshot and stream the demo
// invoices table into raw.erp.demo.faturas.
func TestStackCapturesTheDemoTable(t *testing.T) {
	pgtest.RequireLogicalWAL(t, pgtest.Connect(t))
	db := pgtest.NewDatabase(t)
	opts := testOptions(t, t.TempDir())
	opts.DemoTraffic = true
	opts.DemoPG = db
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := Start(ctx, opts, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Stop(); err != nil {
			t.Error(err)
		}
	}()
	banner := st.Banner()
	for _, want := range []string{"cdc gRPC Control", opts.CDCCtl, "raw.erp.demo.faturas"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := endOffsets(t, opts.KafkaAddr, "raw.erp.demo.faturas")["raw.erp.demo.faturas"]
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("raw.erp.demo.faturas has %d records after 60s", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if subs := strings.Join(subjects(t, opts.RegistryAddr), " "); !strings.Contains(subs, "raw.erp.demo.faturas-value") || !strings.Contains(subs, "raw.erp.demo.faturas-key") {
		t.Fatalf("subjects %s", subs)
	}
}

func TestStackWithoutSourcesSaysWhy(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := Start(ctx, opts, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Stop() }()
	if b := st.Banner(); !strings.Contains(b, "cdc                      not running: no sources configured") {
		t.Fatalf("banner:\n%s", b)
	}
}
