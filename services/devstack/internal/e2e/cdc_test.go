package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/services/devstack/internal/devstack"
)

// cdcTable is a captured table of a test database.
type cdcTable struct {
	db    string // connection string
	topic string
}

// cdcSetup points the stack's CDC at a fresh database's table when the
// local PostgreSQL is reachable with wal_level=logical; otherwise it
// returns why the CDC part is skipped.
func cdcSetup(t *testing.T, opts *devstack.Options) (*cdcTable, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		return nil, fmt.Sprintf("PostgreSQL at %s is not reachable (%v): the CDC part is skipped", redact(pgtest.ServerURL()), err)
	}
	var level string
	err = conn.QueryRow(ctx, "SHOW wal_level").Scan(&level)
	_ = conn.Close(ctx)
	if err != nil {
		return nil, fmt.Sprintf("SHOW wal_level: %v: the CDC part is skipped", err)
	}
	if level != "logical" {
		return nil, fmt.Sprintf("wal_level is %q, not logical (scripts/pg-setup.sh sets it): the CDC part is skipped", level)
	}
	db := pgtest.NewDatabase(t)
	pgtest.Exec(t, db,
		`CREATE TABLE public.e2e_faturas (id bigserial PRIMARY KEY, cliente text NOT NULL, total numeric(12,2) NOT NULL)`,
		`INSERT INTO public.e2e_faturas (cliente, total) VALUES ('snapshot', 1.00)`)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	ident := "riacho_e2e_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(strings.TrimPrefix(u.Path, "/")))
	file := filepath.Join(t.TempDir(), "cdc-sources.yml")
	src := fmt.Sprintf("sources:\n  - name: e2e\n    postgres:\n      url: %q\n      include: [public.e2e_faturas]\n      slot: %s\n      publication: %s\n      heartbeat: 5s\n", db, ident, ident)
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.CDCConfig = file
	return &cdcTable{db: db, topic: "raw.e2e.public.e2e_faturas"}, ""
}

// check inserts a row and waits for its change event (Debezium envelope,
// op c) on the table's raw topic; the snapshot's row comes first (op r).
func (c *cdcTable) check(t *testing.T, h *harness) {
	marker := fmt.Sprintf("cliente-e2e-%d", time.Now().UnixNano())
	pgtest.Exec(t, c.db, fmt.Sprintf(`INSERT INTO public.e2e_faturas (cliente, total) VALUES ('%s', 1234.56)`, marker))
	recs := h.mustAwait(t, c.topic, "the inserted row "+marker, func(s seen) bool {
		after := unionRecord(s.value["after"])
		return after != nil && fieldText(after, "cliente") == marker
	})
	if first := recs[0]; first.value == nil || fieldText(first.value, "op") != "r" || fieldText(unionRecord(first.value["after"]), "cliente") != "snapshot" {
		t.Errorf("%s starts with %v, want the snapshot's row (op r)", c.topic, recs[0].value)
	}
	last := recs[len(recs)-1].value
	if op := fieldText(last, "op"); op != "c" {
		t.Errorf("%s: the inserted row has op %q, want c", c.topic, op)
	}
	if total, ok := cents(field(unionRecord(last["after"]), "total")); !ok || total != 123456 {
		t.Errorf("%s: total %v, want 1234.56 as a decimal", c.topic, field(unionRecord(last["after"]), "total"))
	}
}

// unionRecord returns the record inside a nullable record union
// ({"name": {...}}), or nil for null.
func unionRecord(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return m
	}
	for _, inner := range m {
		if rec, ok := inner.(map[string]any); ok {
			return rec
		}
	}
	return m
}

// redact drops a password from a connection string for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
