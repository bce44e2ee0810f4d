package sqlcursor_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/cdc/internal/cdctest"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/poll"
	"github.com/riacho/riacho/services/cdc/internal/poll/polltest"
	"github.com/riacho/riacho/services/cdc/internal/poll/sqlcursor"
)

// dialect is what differs between the two databases in these tests.
type dialect struct {
	driver string
	dsn    string
	schema string // the topic's schema part
	ddl    []string
	addCol string
	boolV  any // what a true "active" column reads as
}

// mysqlDSN creates a database for the test on the local MariaDB and drops it
// at cleanup.
func mysqlDSN(t *testing.T) (dsn, name string) {
	t.Helper()
	server := os.Getenv("RIACHO_TEST_MYSQL_DSN")
	if server == "" {
		server = "root@tcp(127.0.0.1:3306)/"
	}
	admin, err := sql.Open("mysql", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name = "riacho_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create MariaDB database (is MariaDB running on 127.0.0.1:3306?): %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return server + name, name
}

func dialects(t *testing.T) map[string]func() dialect {
	return map[string]func() dialect{
		"postgres": func() dialect {
			return dialect{
				driver: "postgres", dsn: pgtest.NewDatabase(t), schema: "public",
				ddl: []string{
					`CREATE TABLE orders (id bigint PRIMARY KEY, code varchar(20), amount numeric(12,2), big numeric,
						ratio double precision, active boolean, created date, updated_at timestamp(6), payload bytea,
						note text, ref uuid, tags int[])`,
					`CREATE TABLE lines (order_id bigint, line_no int, qty numeric(10,3), "Updated At" timestamptz,
						PRIMARY KEY (order_id, line_no))`,
				},
				addCol: `ALTER TABLE orders ADD COLUMN extra text`,
				boolV:  true,
			}
		},
		"mariadb": func() dialect {
			dsn, name := mysqlDSN(t)
			return dialect{
				driver: "mysql", dsn: dsn, schema: name,
				ddl: []string{
					`CREATE TABLE orders (id bigint PRIMARY KEY, code varchar(20), amount decimal(12,2), big decimal(38,10),
						ratio double, active boolean, created date, updated_at datetime(6), payload blob,
						note text, ref char(36), tags json)`,
					"CREATE TABLE `lines` (order_id bigint, line_no int, qty decimal(10,3), `Updated At` datetime(6), PRIMARY KEY (order_id, line_no))",
				},
				addCol: `ALTER TABLE orders ADD COLUMN extra text`,
				boolV:  int64(1),
			}
		},
	}
}

var t0 = time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC)

func TestCapture(t *testing.T) {
	for name, mk := range dialects(t) {
		t.Run(name, func(t *testing.T) { testCapture(t, mk()) })
	}
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func testCapture(t *testing.T, d dialect) {
	db, err := sql.Open(map[string]string{"postgres": "pgx", "mysql": "mysql"}[d.driver], d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range d.ddl {
		exec(t, db, q)
	}
	ph := func(n int) string {
		if d.driver == "mysql" {
			return strings.TrimSuffix(strings.Repeat("?,", n), ",")
		}
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("$%d", i+1)
		}
		return strings.Join(s, ",")
	}
	insOrder := "INSERT INTO orders (id, code, amount, big, ratio, active, created, updated_at, payload, note, ref, tags) VALUES (" + ph(12) + ")"
	tags := "{1,2}"
	if d.driver == "mysql" {
		tags = "[1, 2]"
	}
	for i := 1; i <= 10; i++ {
		// Rows share updated_at in threes; pages of four split them.
		exec(t, db, insOrder, i, fmt.Sprintf("P-%03d", i), fmt.Sprintf("%d.%02d", i*1000, i), "12345678901234567890.0123456789",
			0.5, true, "2026-04-01", t0.Add(time.Duration(i/3)*time.Second), []byte{0, 1, byte(i)}, "note", "5f1b3c0e-8d6a-4c1e-9e55-2b1f0c9d7a31", tags)
	}
	linesT := "lines"
	if d.driver == "mysql" {
		linesT = "`lines`"
	}
	quotedUpd := `"Updated At"`
	if d.driver == "mysql" {
		quotedUpd = "`Updated At`"
	}
	for o := 1; o <= 3; o++ {
		for l := 1; l <= 3; l++ {
			// Every line has the same change time: only the composite key orders them.
			exec(t, db, "INSERT INTO "+linesT+" (order_id, line_no, qty, "+quotedUpd+") VALUES ("+ph(4)+")", o, l, "1.250", t0)
		}
	}

	env := cdctest.New(t)
	cfg := poll.SQLConfig{Driver: d.driver, DSN: d.dsn, PageSize: 4, Interval: time.Hour, Overlap: 5 * time.Second, Tables: []poll.SQLTable{
		{Name: "orders", UpdatedAt: "updated_at", Key: []string{"id"}},
		{Name: "lines", UpdatedAt: "Updated At", Key: []string{"order_id", "line_no"}},
	}}
	f, err := sqlcursor.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts := cfg.Options()
	opts.RetryMin, opts.RetryMax, opts.Logger = time.Millisecond, 20*time.Millisecond, testlog.New(t, slog.LevelWarn)
	p, err := poll.New("shop", f, env.Emitter(emit.Options{}), env.State(""), opts)
	if err != nil {
		t.Fatal(err)
	}
	polltest.Start(t, p)
	for _, e := range []string{"orders", "lines"} {
		polltest.WaitFor(t, p, e, 30*time.Second, "backfill", func(s poll.EntityStatus) bool { return !s.Backfilling })
	}
	topic := "raw.shop." + d.schema + ".orders"
	got := env.ReadAll(topic)
	if len(got) != 10 {
		t.Fatalf("%d orders, want 10", len(got))
	}
	lines := env.ReadAll("raw.shop." + d.schema + ".lines")
	if len(lines) != 9 {
		t.Fatalf("%d lines, want 9 (composite keys at one timestamp across pages)", len(lines))
	}
	seen := map[string]bool{}
	for _, c := range lines {
		seen[fmt.Sprint(c.Key["order_id"], "/", c.Key["line_no"])] = true
	}
	if len(seen) != 9 {
		t.Fatalf("lines keys %v", seen)
	}

	a := got[6].After() // id 7
	if a["id"] != int64(7) || a["code"] != "P-007" {
		t.Fatalf("row 7: %v", a)
	}
	if r, ok := a["amount"].(*big.Rat); !ok || r.Cmp(big.NewRat(700007, 100)) != 0 {
		t.Fatalf("amount %#v, want exactly 7000.07", a["amount"])
	}
	if a["ratio"] != 0.5 || a["active"] != d.boolV || a["note"] != "note" {
		t.Fatalf("ratio/active/note = %#v %#v %#v", a["ratio"], a["active"], a["note"])
	}
	if c, ok := a["created"].(time.Time); !ok || !c.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("created %#v", a["created"])
	}
	if u, ok := a["updated_at"].(time.Time); !ok || !u.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("updated_at %#v, want %v", a["updated_at"], t0.Add(2*time.Second))
	}
	if b, ok := a["payload"].([]byte); !ok || !bytes.Equal(b, []byte{0, 1, 7}) {
		t.Fatalf("payload %#v", a["payload"])
	}
	if a["ref"] != "5f1b3c0e-8d6a-4c1e-9e55-2b1f0c9d7a31" {
		t.Fatalf("ref %#v", a["ref"])
	}
	checkBig(t, a["big"])
	if src := got[6].Source(); src["connector"] != "sql" || src["table"] != "orders" || src["snapshot"] != "true" {
		t.Fatalf("source %v", src)
	}

	// Changes after the backfill are updates; an idle poll adds nothing.
	exec(t, db, "UPDATE orders SET amount = 1.10, updated_at = "+ph(1)+" WHERE id = 2", t0.Add(time.Minute))
	exec(t, db, insOrder, 11, "P-011", "0.01", "1", 1.5, false, "2026-04-02", t0.Add(time.Minute), nil, nil, nil, nil)
	polltest.Pass(t, p, "orders")
	polltest.Pass(t, p, "orders")
	got = env.ReadAll(topic)
	if len(got) != 12 {
		t.Fatalf("%d orders after changes, want 12", len(got))
	}
	for _, c := range got[10:] {
		if c.Op() != "u" {
			t.Fatalf("op %q after backfill, want u", c.Op())
		}
	}
	if a := got[10].After(); a["id"] != int64(2) || a["amount"].(*big.Rat).Cmp(big.NewRat(11, 10)) != 0 {
		t.Fatalf("update of 2: %v", a)
	}

	// A new column gives a new schema version without a restart.
	exec(t, db, d.addCol)
	exec(t, db, "UPDATE orders SET extra = 'x', updated_at = "+ph(1)+" WHERE id = 3", t0.Add(2*time.Minute))
	polltest.Pass(t, p, "orders")
	got = env.ReadAll(topic)
	if len(got) != 13 || got[12].After()["extra"] != "x" {
		t.Fatalf("%d orders; last after %v, want extra = x", len(got), got[len(got)-1].After())
	}
}

// checkBig checks the numeric column without a declared scale (PostgreSQL)
// or decimal(38,10) (MariaDB) holds the exact value.
func checkBig(t *testing.T, v any) {
	t.Helper()
	want, _ := new(big.Rat).SetString("12345678901234567890.0123456789")
	switch x := v.(type) {
	case *big.Rat:
		if x.Cmp(want) != 0 {
			t.Fatalf("big = %s", x.FloatString(10))
		}
	case map[string]any:
		scale, _ := x["scale"].(int32)
		b, _ := x["value"].([]byte)
		n := new(big.Int).SetBytes(b)
		got := new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
		if got.Cmp(want) != 0 {
			t.Fatalf("big = %s (scale %d)", got.FloatString(int(scale)), scale)
		}
	default:
		t.Fatalf("big = %#v, want an exact decimal", v)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := sqlcursor.Open(poll.SQLConfig{Driver: "oracle", Tables: []poll.SQLTable{{Name: "t"}}})
	for _, want := range []string{"driver", "dsn", "tables[0].updated_at", "tables[0].key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v does not name %s", err, want)
		}
	}
	dsn := pgtest.NewDatabase(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v text, changed int)")
	f, err := sqlcursor.New(db, poll.SQLConfig{Driver: "postgres", Tables: []poll.SQLTable{
		{Name: "t", UpdatedAt: "changed", Key: []string{"id"}},
		{Name: "t2", UpdatedAt: "x", Key: []string{"id"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Describe(context.Background(), "t"); err == nil || !strings.Contains(err.Error(), "not a timestamp") {
		t.Fatalf("Describe with an integer updated_at: %v", err)
	}
	if _, err := f.Describe(context.Background(), "t2"); err == nil {
		t.Fatal("Describe of a missing table succeeded")
	}
}
