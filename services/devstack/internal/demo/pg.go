package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// DemoPGURL is the local PostgreSQL database devstack captures in the demo
// when it is reachable with wal_level=logical (scripts/pg-setup.sh makes it so).
const DemoPGURL = "postgres://postgres@127.0.0.1:5432/riacho?sslmode=disable"

// InvoiceTable is the demo table: SAP Business One-like A/R invoices.
const InvoiceTable = "demo.faturas"

// PGDemo writes SAP Business One-like invoices into a local PostgreSQL
// table, for the CDC service to capture.
type PGDemo struct {
	URL      string
	Interval time.Duration
	log      *slog.Logger
	rnd      *rand.Rand
}

// NewPGDemo returns a writer for the database at url.
func NewPGDemo(url string, interval time.Duration, logger *slog.Logger) *PGDemo {
	return &PGDemo{URL: url, Interval: interval, log: logger, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))} //nolint:gosec // demo data
}

// ErrNoLogicalWAL means the database is reachable but cannot be captured.
var ErrNoLogicalWAL = errors.New("wal_level is not logical (run scripts/pg-setup.sh)")

// Setup checks the database can be captured and creates the demo table.
func (d *PGDemo) Setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.URL)
	if err != nil {
		return fmt.Errorf("demo postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var level string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return fmt.Errorf("demo postgres: %w", err)
	}
	if level != "logical" {
		return ErrNoLogicalWAL
	}
	_, err = conn.Exec(ctx, `
CREATE SCHEMA IF NOT EXISTS demo;
CREATE TABLE IF NOT EXISTS demo.faturas (
	doc_entry   bigserial PRIMARY KEY,
	doc_num     integer NOT NULL,
	card_code   text NOT NULL,
	card_name   text NOT NULL,
	doc_date    date NOT NULL,
	doc_total   numeric(14,2) NOT NULL,
	doc_status  text NOT NULL DEFAULT 'O',
	updated_at  timestamptz NOT NULL DEFAULT now()
)`)
	if err != nil {
		return fmt.Errorf("demo postgres: create %s: %w", InvoiceTable, err)
	}
	return nil
}

// Run writes until ctx ends: each round inserts an invoice, and now and
// then closes or cancels an open one.
func (d *PGDemo) Run(ctx context.Context) {
	conn, err := pgx.Connect(ctx, d.URL)
	if err != nil {
		d.log.Warn("demo postgres writer stopped", "error", err)
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	t := time.NewTicker(d.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.Round(ctx, conn); err != nil && ctx.Err() == nil {
			d.log.Warn("demo postgres round failed", "error", err)
		}
	}
}

// Round does one round of writes on conn.
func (d *PGDemo) Round(ctx context.Context, conn *pgx.Conn) error {
	r := d.rnd
	code := fmt.Sprintf("C%05d", r.IntN(500))
	total := fmt.Sprintf("%d.%02d", 50+r.IntN(20000), r.IntN(100))
	if _, err := conn.Exec(ctx, `INSERT INTO demo.faturas (doc_num, card_code, card_name, doc_date, doc_total)
		VALUES ((SELECT coalesce(max(doc_num), 1000) + 1 FROM demo.faturas), $1, $2, current_date, $3::numeric)`,
		code, name(r), total); err != nil {
		return fmt.Errorf("insert invoice: %w", err)
	}
	switch r.IntN(4) {
	case 0:
		_, err := conn.Exec(ctx, `UPDATE demo.faturas SET doc_status = 'C', updated_at = now()
			WHERE doc_entry = (SELECT doc_entry FROM demo.faturas WHERE doc_status = 'O' ORDER BY random() LIMIT 1)`)
		if err != nil {
			return fmt.Errorf("close invoice: %w", err)
		}
	case 1:
		_, err := conn.Exec(ctx, `DELETE FROM demo.faturas
			WHERE doc_entry = (SELECT doc_entry FROM demo.faturas WHERE doc_status = 'O' ORDER BY random() LIMIT 1)
			AND random() < 0.2`)
		if err != nil {
			return fmt.Errorf("cancel invoice: %w", err)
		}
	}
	return nil
}
