package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/libs/testlog"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/cdc/internal/cdctest"
	"github.com/riacho/riacho/services/cdc/internal/poll/polltest"
)

const testToken = "ctl-token"

type harness struct {
	t      *testing.T
	env    *cdctest.Env
	svc    *Service
	cancel context.CancelFunc
	done   chan error
	ctl    controlv1.ControlClient
}

func newHarness(t *testing.T, sourcesYAML string, getenv map[string]string) *harness {
	t.Helper()
	env := cdctest.New(t)
	cfg, err := LoadConfig(context.Background(), []string{
		"RIACHO_CDC_OPS_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_ADDR=127.0.0.1:0",
		"RIACHO_CONTROL_TOKENS=ops:" + testToken,
		"RIACHO_KAFKA_BROKERS=" + env.Kafka.Addrs()[0],
		"RIACHO_SCHEMA_REGISTRY_URL=" + env.RegistryURL,
		"RIACHO_CDC_TOPIC_PARTITIONS=1",
		"RIACHO_CDC_RESTART_BACKOFF=100ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	sources, err := ParseSources("test.yaml", []byte(sourcesYAML), func(k string) string { return getenv[k] })
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, sources, Deps{Logger: testlog.New(t, slog.LevelWarn), Getenv: func(k string) string { return getenv[k] }})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, env: env, svc: svc, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- svc.Run(ctx) }()
	t.Cleanup(h.stop)
	conn, err := grpc.NewClient(svc.ControlAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h.ctl = controlv1.NewControlClient(conn)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("service stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Error("service did not stop within 30s")
	}
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	h.t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testToken)
}

// waitFor polls cond until it holds or 30s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// slotFor names a slot after the test database (slot names are global).
func slotFor(t *testing.T, dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return "riacho_app_" + strings.TrimPrefix(strings.TrimPrefix(u.Path, "/"), "riacho_test_")
}

func pgSources(dbURL, ident string) string {
	return fmt.Sprintf(`sources:
  - name: erp
    postgres:
      url_env: ERP_URL
      include: [public.*]
      slot: %s
      publication: %s
      heartbeat: 1s
`, ident, ident)
}

func TestPostgresSourceThroughTheService(t *testing.T) {
	pgtest.RequireLogicalWAL(t, pgtest.Connect(t))
	db := pgtest.NewDatabase(t)
	pgtest.Exec(t, db,
		`CREATE TABLE clientes (id bigint PRIMARY KEY, nome text NOT NULL, saldo numeric(12,2))`,
		`INSERT INTO clientes VALUES (1, 'Ana', 10.50), (2, 'Bruno', 0)`,
	)
	ident := slotFor(t, db)
	h := newHarness(t, pgSources(db, ident), map[string]string{"ERP_URL": db})
	topic := "raw.erp.public.clientes"
	waitFor(t, "the snapshot", func() bool { return len(h.env.ReadAll(topic)) >= 2 })
	pgtest.Exec(t, db, `UPDATE clientes SET saldo = 99.99 WHERE id = 2`, `DELETE FROM clientes WHERE id = 1`)
	waitFor(t, "the update, delete and tombstone", func() bool { return len(h.env.ReadAll(topic)) >= 5 })
	var ops []string
	for _, c := range h.env.ReadAll(topic) {
		ops = append(ops, c.Op())
	}
	if got := strings.Join(ops, ","); got != "r,r,u,d," {
		t.Fatalf("ops %q, want r,r,u,d, (a tombstone last)", got)
	}

	st, err := h.ctl.Status(h.ctx(), &controlv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != controlv1.State_STATE_RUNNING || st.Details["source.erp.kind"] != "postgres" {
		t.Fatalf("status %v %v", st.State, st.Details)
	}
	for _, k := range []string{"source.erp.lag_bytes", "source.erp.lag_seconds", "source.erp.confirmed_lsn", "source.erp.table.public.clientes.events"} {
		if _, ok := st.Details[k]; !ok {
			t.Errorf("status lacks %s: %v", k, st.Details)
		}
	}

	// On-demand snapshot through the Control verb.
	if _, err := h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: "snapshot", Args: map[string]string{"table": "public.clientes"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the on-demand snapshot", func() bool { return len(h.env.ReadAll(topic)) >= 6 })
	last := h.env.ReadAll(topic)
	if c := last[len(last)-1]; c.Op() != "r" || c.After()["id"] != int64(2) {
		t.Fatalf("on-demand snapshot record: %s %v", c.Op(), c.After())
	}
	if _, err := h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: "snapshot", Args: map[string]string{"source": "nope", "table": "x"}}); err == nil {
		t.Fatal("snapshot of an unknown source accepted")
	}
	if _, err := h.ctl.Command(h.ctx(), &controlv1.CommandRequest{Name: "snapshot"}); err == nil {
		t.Fatal("snapshot without a table accepted")
	}

	// Paused, the source stops reading; resumed, it catches up.
	if _, err := h.ctl.Pause(h.ctx(), &controlv1.PauseRequest{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	before := len(h.env.ReadAll(topic))
	pgtest.Exec(t, db, `INSERT INTO clientes VALUES (3, 'Carla', 1)`)
	time.Sleep(1500 * time.Millisecond)
	if n := len(h.env.ReadAll(topic)); n != before {
		t.Fatalf("paused capture produced %d records", n-before)
	}
	if _, err := h.ctl.Resume(h.ctx(), &controlv1.ResumeRequest{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the insert after resume", func() bool { return len(h.env.ReadAll(topic)) == before+1 })
}

func TestBrokenSourceDoesNotStopTheOthers(t *testing.T) {
	pgtest.RequireLogicalWAL(t, pgtest.Connect(t))
	db := pgtest.NewDatabase(t)
	pgtest.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`, `INSERT INTO t VALUES (1)`)
	ident := slotFor(t, db)
	file := pgSources(db, ident) + `  - name: broken
    postgres:
      url: postgres://postgres@127.0.0.1:1/nope?connect_timeout=1
`
	h := newHarness(t, file, map[string]string{"ERP_URL": db})
	waitFor(t, "the good source", func() bool { return len(h.env.ReadAll("raw.erp.public.t")) == 1 })
	waitFor(t, "the broken source's error in Status", func() bool {
		st, err := h.ctl.Status(h.ctx(), &controlv1.StatusRequest{})
		if err != nil {
			return false
		}
		e := st.Details["source.broken.error"] + st.Details["source.broken.last_error"]
		return strings.Contains(e, "connection refused")
	})
}

func TestSQLCursorSourceThroughTheService(t *testing.T) {
	db := pgtest.NewDatabase(t)
	pgtest.Exec(t, db,
		`CREATE TABLE clientes (id int PRIMARY KEY, nome text, atualizado_em timestamptz NOT NULL)`,
		`INSERT INTO clientes VALUES (1, 'Ana', '2024-01-15 10:00:00+00'), (2, 'Bruno', '2024-01-15 10:00:01+00')`,
	)
	file := `sources:
  - name: legado
    sql:
      driver: postgres
      dsn_env: LEGADO_DSN
      interval: 100ms
      tables:
        - {schema: public, name: clientes, updated_at: atualizado_em, key: [id]}
`
	h := newHarness(t, file, map[string]string{"LEGADO_DSN": db})
	topic := "raw.legado.public.clientes"
	waitFor(t, "the first pass", func() bool { return len(h.env.ReadAll(topic)) == 2 })
	pgtest.Exec(t, db, `UPDATE clientes SET nome = 'Ana Maria', atualizado_em = '2024-01-16 09:00:00+00' WHERE id = 1`)
	waitFor(t, "the changed row", func() bool { return len(h.env.ReadAll(topic)) == 3 })
	got := h.env.ReadAll(topic)
	if c := got[2]; c.Op() != "u" || c.After()["nome"] != "Ana Maria" {
		t.Fatalf("change: %s %v", c.Op(), c.After())
	}
	st, err := h.ctl.Status(h.ctx(), &controlv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Details["source.legado.kind"] != "sql" {
		t.Fatalf("details %v", st.Details)
	}
}

func TestPloomesSourceThroughTheService(t *testing.T) {
	api := polltest.NewPloomes(t)
	at := time.Date(2024, 1, 15, 10, 0, 0, 0, time.FixedZone("BRT", -3*3600))
	for i := 1; i <= 3; i++ {
		api.Put("Deals", map[string]any{"Id": i, "Title": fmt.Sprintf("negócio %d", i), "Amount": 1500.5, "LastUpdateDate": at.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05-07:00")})
	}
	file := fmt.Sprintf(`sources:
  - name: crm
    ploomes:
      url: %s
      user_key_env: CRM_KEY
      interval: 100ms
      entities: [{name: Deals}]
`, api.URL())
	h := newHarness(t, file, map[string]string{"CRM_KEY": api.UserKey})
	topic := "raw.crm.api.deals"
	waitFor(t, "the deals", func() bool { return len(h.env.ReadAll(topic)) == 3 })
	for _, c := range h.env.ReadAll(topic) {
		if c.Op() != "r" || !strings.Contains(fmt.Sprint(c.After()["_raw"]), "negócio") {
			t.Fatalf("deal record: %s %v", c.Op(), c.After())
		}
	}
}

func TestSAPB1SourceThroughTheService(t *testing.T) {
	sl := polltest.NewSAPB1(t)
	for i := 1; i <= 3; i++ {
		sl.Put("Invoices", "DocEntry", map[string]any{
			"DocEntry": i, "DocNum": 1000 + i, "CardCode": "C001", "DocTotal": "10.50",
			"UpdateDate": "2024-01-15T00:00:00Z", "UpdateTime": fmt.Sprintf("10:00:0%d", i),
		})
	}
	file := fmt.Sprintf(`sources:
  - name: sap
    sapb1:
      url: %s
      company_db: %s
      username: %s
      password_env: SAP_PASSWORD
      insecure_skip_verify: true
      interval: 100ms
      entities: [{name: Invoices}]
`, sl.URL(), sl.CompanyDB, sl.UserName)
	h := newHarness(t, file, map[string]string{"SAP_PASSWORD": sl.Password})
	waitFor(t, "the invoices", func() bool { return len(h.env.ReadAll("raw.sap.b1.invoices")) == 3 })
	sl.ExpireSessions() // the next poll logs in again
	sl.Put("Invoices", "DocEntry", map[string]any{
		"DocEntry": 2, "DocNum": 1002, "CardCode": "C001", "DocTotal": "99.00",
		"UpdateDate": "2024-01-16T00:00:00Z", "UpdateTime": "08:00:00",
	})
	waitFor(t, "the changed invoice after a new login", func() bool { return len(h.env.ReadAll("raw.sap.b1.invoices")) == 4 })
	if c := h.env.ReadAll("raw.sap.b1.invoices")[3]; c.Op() != "u" || c.Key["DocEntry"] != int64(2) {
		t.Fatalf("change %s key %v", c.Op(), c.Key)
	}
}
