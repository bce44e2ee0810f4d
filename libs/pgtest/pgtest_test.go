package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestServerIsReadyForLogicalReplication(t *testing.T) {
	RequireLogicalWAL(t, Connect(t))
}

func TestNewDatabaseIsIsolatedAndDropped(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		url := NewDatabase(t)
		Exec(t, url, "CREATE TABLE leads (id bigint PRIMARY KEY, email text)", "INSERT INTO leads VALUES (1, 'a@b.com')")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM leads").Scan(&n); err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var exists bool
	if err := Connect(t).QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if name == "" || exists {
		t.Fatalf("test database %q still exists after its test ended", name)
	}
}

func TestNewDatabaseDropsReplicationSlots(t *testing.T) {
	admin := Connect(t)
	RequireLogicalWAL(t, admin)
	var name, slot string
	t.Run("with a slot", func(t *testing.T) {
		dbURL := NewDatabase(t)
		u, _ := url.Parse(dbURL)
		name = strings.TrimPrefix(u.Path, "/")
		slot = name + "_slot"
		Exec(t, dbURL, "SELECT pg_create_logical_replication_slot('"+slot+"', 'pgoutput')")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("database %s still there (%d, %v)", name, n, err)
	}
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&n); err != nil || n != 0 {
		t.Fatalf("slot %s still there (%d, %v)", slot, n, err)
	}
}
