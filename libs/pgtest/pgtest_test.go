package pgtest

import (
	"context"
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
