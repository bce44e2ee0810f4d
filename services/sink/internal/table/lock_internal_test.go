package table

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/pgtest"

	"github.com/riacho/riacho/services/sink/internal/lake"
)

// The cross-process table lock (PostgreSQL advisory lock; flock beside a SQLite catalog) excludes
// another process (here: another Catalog, with its own mutexes) until released, and is per table.
func TestCrossProcessLock(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testCrossProcessLock(t, pgtest.NewDatabase(t)) })
	t.Run("sqlite", func(t *testing.T) { testCrossProcessLock(t, "sqlite://"+filepath.Join(t.TempDir(), "catalog.db")) })
}

func testCrossProcessLock(t *testing.T, catalogURI string) {
	ctx := context.Background()
	store, err := lake.Open(ctx, "file://"+filepath.Join(t.TempDir(), "lake"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a, err := OpenCatalog(ctx, catalogURI, "", store)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenCatalog(ctx, catalogURI, "", store)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	unlock, err := a.lock(ctx, "raw_erp.orders")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = b.lock(short, "raw_erp.orders")
	cancel()
	if err == nil {
		t.Fatal("a second process took a held table lock")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(short.Err(), context.DeadlineExceeded) {
		t.Fatalf("unexpected lock error: %v", err)
	}
	// Another table is not blocked.
	other, err := b.lock(ctx, "raw_erp.customers")
	if err != nil {
		t.Fatal(err)
	}
	other()
	unlock()
	again, err := b.lock(ctx, "raw_erp.orders")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}
