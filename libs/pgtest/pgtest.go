// Package pgtest gives tests a fresh PostgreSQL database on the local server
// (127.0.0.1:5432 by default, RIACHO_TEST_PG_URL to override), cloned from a template so
// each test starts clean, and dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use unless RIACHO_TEST_PG_URL is set: the local
// PostgreSQL that scripts/pg-setup.sh prepares (trust authentication).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the administrative connection string tests use.
func ServerURL() string {
	if u := os.Getenv("RIACHO_TEST_PG_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Connect opens a connection to the administrative database, failing the test with a
// pointer to scripts/pg-setup.sh when the server is not there.
func Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s (run scripts/pg-setup.sh; make test does): %v", ServerURL(), err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// NewDatabase creates an empty database for the test and returns its connection string.
// The database is dropped (connections terminated) when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := Connect(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "riacho_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// A database with a replication slot cannot be dropped: end the
		// slots' senders, then drop the slots.
		if err := dropSlots(ctx, conn, name); err != nil {
			t.Errorf("drop replication slots of test database %s: %v", name, err)
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// dropSlots drops every replication slot of database db, ending the
// processes that hold them first.
func dropSlots(ctx context.Context, conn *pgx.Conn, db string) error {
	for attempt := 0; ; attempt++ {
		_, _ = conn.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
			WHERE database = $1 AND active_pid IS NOT NULL`, db)
		_, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE database = $1`, db)
		if err == nil || attempt == 50 {
			return err
		}
		// A terminated sender can take a moment to release its slot.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RequireLogicalWAL fails the test unless the server runs with wal_level=logical, which
// logical replication (CDC) needs.
func RequireLogicalWAL(t testing.TB, conn *pgx.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var level string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != "logical" {
		t.Fatalf("wal_level is %q, want logical: run scripts/pg-setup.sh", level)
	}
}

// Exec runs statements on the database at url, failing the test on error.
func Exec(t testing.TB, dbURL string, sql ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}
