package pgcdc

import (
	"bytes"
	"context"
	"math/big"
	"reflect"
	"testing"
	"time"
)

func TestTypesEndToEndThroughAvro(t *testing.T) {
	h := newHarness(t,
		`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
		`CREATE TABLE typed (
			id int PRIMARY KEY, price numeric(10,2), ratio numeric, at timestamptz, day date,
			uid uuid, doc jsonb, raw bytea, tags int[], m mood, note text, f double precision, ok boolean)`,
		`INSERT INTO typed VALUES (1, 12345678.91, 0.000000000000000000001, '2024-02-29 13:14:15.123456-03',
			'2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '\x00ff10',
			'{1,NULL,3}', 'happy', 'olá', 1.5, true)`,
	)
	c, _ := h.start(h.config())
	waitStreaming(t, c)
	h.exec(`INSERT INTO typed (id, price) VALUES (2, -0.01)`)
	h.caughtUp(c)
	got := h.readAll("typed")
	if ops := opsOf(got); ops != "rc" {
		t.Fatalf("ops %q, want rc (snapshot row, then the insert)", ops)
	}
	a := got[0].After()
	if r, ok := a["price"].(*big.Rat); !ok || r.Cmp(big.NewRat(1234567891, 100)) != 0 {
		t.Errorf("price = %#v, want exact 12345678.91", a["price"])
	}
	vs, ok := a["ratio"].(map[string]any)
	if !ok || vs["scale"] != int32(21) || !bytes.Equal(vs["value"].([]byte), []byte{1}) {
		t.Errorf("ratio = %#v, want variable-scale 1e-21", a["ratio"])
	}
	want := time.Date(2024, 2, 29, 16, 14, 15, 123456000, time.UTC)
	if at, ok := a["at"].(time.Time); !ok || !at.Equal(want) {
		t.Errorf("at = %#v, want %s", a["at"], want)
	}
	if d, ok := a["day"].(time.Time); !ok || !d.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("day = %#v", a["day"])
	}
	if a["uid"] != "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" || a["doc"] != `{"a": [1, 2]}` || a["m"] != "happy" || a["note"] != "olá" {
		t.Errorf("uid %v doc %v m %v note %v", a["uid"], a["doc"], a["m"], a["note"])
	}
	if !bytes.Equal(a["raw"].([]byte), []byte{0, 0xff, 0x10}) {
		t.Errorf("raw = %#v", a["raw"])
	}
	if !reflect.DeepEqual(a["tags"], []any{int32(1), nil, int32(3)}) {
		t.Errorf("tags = %#v", a["tags"])
	}
	if a["f"] != 1.5 || a["ok"] != true {
		t.Errorf("f %v ok %v", a["f"], a["ok"])
	}
	if r, ok := got[1].After()["price"].(*big.Rat); !ok || r.Cmp(big.NewRat(-1, 100)) != 0 || got[1].After()["at"] != nil {
		t.Errorf("stream row = %v", got[1].After())
	}
	// The registered schema says what the columns are.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sch, err := h.env.Registry.Latest(ctx, topic("typed")+"-value")
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"logicalType":"decimal"`, `"precision":10`, `"logicalType":"timestamp-micros"`, `"logicalType":"uuid"`, `"VariableScaleDecimal"`} {
		if !bytes.Contains([]byte(sch.Schema), []byte(frag)) {
			t.Errorf("value schema lacks %s", frag)
		}
	}
}

func TestAddColumnRegistersNewVersionWithoutRestart(t *testing.T) {
	h := newHarness(t, `CREATE TABLE leads (id bigint PRIMARY KEY, email text)`)
	c, _ := h.start(h.config())
	waitStreaming(t, c)
	h.exec(`INSERT INTO leads VALUES (1, 'a@b.com')`)
	h.caughtUp(c)
	h.exec(
		`ALTER TABLE leads ADD COLUMN score numeric(5,1)`,
		`INSERT INTO leads VALUES (2, 'c@d.com', 9.5)`,
		`UPDATE leads SET score = 1.0 WHERE id = 1`,
	)
	h.caughtUp(c)
	got := h.readAll("leads")
	if ops := opsOf(got); ops != "ccu" {
		t.Fatalf("ops %q, want ccu", ops)
	}
	if _, has := got[0].After()["score"]; has {
		t.Errorf("first record has score: %v", got[0].After())
	}
	if r, ok := got[1].After()["score"].(*big.Rat); !ok || r.Cmp(big.NewRat(19, 2)) != 0 {
		t.Errorf("score = %#v, want 9.5", got[1].After()["score"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	latest, err := h.env.Registry.Latest(ctx, topic("leads")+"-value")
	if err != nil {
		t.Fatal(err)
	}
	if latest.Version != 2 {
		t.Errorf("latest value schema version %d, want 2", latest.Version)
	}
	if st := c.Status(); st.State != StateStreaming || st.Tables[0].Failed {
		t.Errorf("status %s, table %+v: want streaming, not failed", st.State, st.Tables[0])
	}
}
