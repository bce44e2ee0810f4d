package duck

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// leadsV2Schema is leadsSchema with one nullable field added.
const leadsV2Schema = `{"type":"record","name":"Lead","namespace":"riacho.ploomes","fields":[
	{"name":"lead_id","type":"long"},
	{"name":"email","type":["null","string"],"default":null},
	{"name":"phone","type":["null","string"],"default":null},
	{"name":"created_at","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"status","type":"string"},
	{"name":"channel","type":["null","string"],"default":null}]}`

func TestSchemaEvolutionBetweenBatches(t *testing.T) {
	e := openEngine(t)
	const table = "src__ploomes__leads"
	v1 := seedInput(t)
	res := run(t, e, `SELECT * FROM `+table, v1)
	if len(res.Columns) != 5 || len(res.Rows) != 5 {
		t.Fatalf("v1: %d columns %d rows", len(res.Columns), len(res.Rows))
	}

	s2 := inputSchema(t, leadsV2Schema, UnwrapAuto)
	codec := codecOf(t, leadsV2Schema)
	n1 := lead(10, "new@x.io", nil, utc("2024-06-01T10:00:00Z"), "Won")
	n1["channel"] = goavro.Union("string", "whatsapp")
	n2 := lead(11, "old@x.io", nil, utc("2024-06-01T11:00:00Z"), "Lost")
	n2["channel"] = nil
	v2 := Input{Table: table, Schema: s2, Rows: decodeAll(t, s2, goavroBody(t, codec, n1), goavroBody(t, codec, n2))}

	res = run(t, e, `SELECT lead_id, channel FROM `+table+` ORDER BY lead_id`, v2)
	want := [][]any{{int64(10), "whatsapp"}, {int64(11), nil}}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Fatalf("v2 rows %v, want %v", res.Rows, want)
	}
	// The seed model does not read the new field and keeps working.
	res = run(t, e, seedSQL, v2)
	if len(res.Rows) != 2 || res.Rows[0][4] != "Convertido" {
		t.Fatalf("seed over v2: %v", res.Rows)
	}
	// Back to the old schema: the new column is gone again.
	if _, err := e.Run(context.Background(), `SELECT channel FROM `+table, []Input{v1}); !errors.Is(err, ErrQuery) {
		t.Fatalf("channel over v1: err = %v, want ErrQuery", err)
	}
}

// TestErrorsLeaveEngineUsable runs failing batches, each followed by one that
// works, as the runner does when it bisects a batch.
func TestErrorsLeaveEngineUsable(t *testing.T) {
	e := openEngine(t)
	good := seedInput(t)
	badValue := seedInput(t)
	badValue.Rows[1] = append([]any(nil), badValue.Rows[1]...)
	badValue.Rows[1][0] = "not a number"
	shortRow := seedInput(t)
	shortRow.Rows[2] = shortRow.Rows[2][:3]
	tests := []struct {
		name    string
		sql     string
		inputs  []Input
		target  error
		message string
	}{
		{"binder error", `SELECT nope FROM src__ploomes__leads`, []Input{good}, ErrQuery, `Referenced column "nope" not found`},
		{"parser error", `SELEC 1`, nil, ErrQuery, "syntax error"},
		{"runtime error", `SELECT CAST(status AS INTEGER) FROM src__ploomes__leads`, []Input{good}, ErrQuery, "Could not convert"},
		{"unknown table", `SELECT * FROM src__ploomes__deals`, []Input{good}, ErrQuery, "src__ploomes__deals"},
		{"value of the wrong type", seedSQL, []Input{badValue}, ErrQuery, "row 1 column lead_id"},
		{"row too short", seedSQL, []Input{shortRow}, ErrQuery, "row 2: 3 values for 5 columns"},
		{"input without a name", seedSQL, []Input{{Schema: good.Schema}}, ErrLoad, "no table name"},
		{"input without a schema", seedSQL, []Input{{Table: "x"}}, ErrLoad, "no schema"},
		{"input twice", seedSQL, []Input{good, good}, ErrLoad, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Run(context.Background(), tt.sql, tt.inputs)
			if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.target, tt.message)
			}
			res := run(t, e, seedSQL, good)
			if len(res.Rows) != 4 {
				t.Fatalf("run after the error: %d rows, want 4", len(res.Rows))
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	e := openEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Run(ctx, seedSQL, []Input{seedInput(t)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res := run(t, e, seedSQL, seedInput(t)); len(res.Rows) != 4 {
		t.Fatalf("%d rows after a cancelled run, want 4", len(res.Rows))
	}
}

// TestScansReadEveryRow reads one input several times in one query, over
// more rows than one DuckDB chunk, with two DuckDB threads.
func TestScansReadEveryRow(t *testing.T) {
	e, err := Open(Options{Threads: 2, MemoryLimit: "256MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := inputSchema(t, leadsSchema, UnwrapAuto)
	in := Input{Table: "src__ploomes__leads", Schema: s, Rows: decodeAll(t, s, leadBodies(t, 5000)...)}
	tests := []struct {
		name, sql string
		want      int64
	}{
		{"count", `SELECT count(*) FROM src__ploomes__leads`, 5000},
		{"self join", `SELECT count(*) FROM src__ploomes__leads a JOIN src__ploomes__leads b USING (lead_id)`, 5000},
		{"cte read twice", `WITH s AS (SELECT * FROM src__ploomes__leads)
			SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM s WHERE email IS NULL)`, 6000},
		{"union all", `SELECT count(*) FROM (SELECT lead_id FROM src__ploomes__leads UNION ALL SELECT lead_id FROM src__ploomes__leads)`, 10000},
		{"qualified and upper case", `SELECT count(SRC__PLOOMES__LEADS.lead_id) FROM SRC__PLOOMES__LEADS`, 5000},
		{"schema qualified", `SELECT count(*) FROM memory.main."src__ploomes__leads"`, 5000},
		{"alias", `SELECT count(l.lead_id) FROM "src__ploomes__leads" AS l WHERE l.lead_id % 2 = 0`, 2500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, e, tt.sql, in)
			if got := res.Rows[0][0]; got != tt.want {
				t.Fatalf("got %v, want %d", got, tt.want)
			}
		})
	}
}

func TestJoinTwoInputs(t *testing.T) {
	e := openEngine(t)
	leads := seedInput(t)
	const statusSchema = `{"type":"record","name":"S","fields":[{"name":"code","type":"string"},{"name":"label","type":"string"}]}`
	ss := inputSchema(t, statusSchema, UnwrapAuto)
	codec := codecOf(t, statusSchema)
	statuses := Input{Table: "ref__statuses", Schema: ss, Rows: decodeAll(t, ss,
		goavroBody(t, codec, map[string]any{"code": "Won", "label": "won!"}),
		goavroBody(t, codec, map[string]any{"code": "Lost", "label": "lost!"}))}
	res := run(t, e, `SELECT l.lead_id, s.label FROM src__ploomes__leads l JOIN ref__statuses s ON s.code = l.status ORDER BY 1`,
		leads, statuses)
	want := [][]any{{int64(1), "won!"}, {int64(2), "lost!"}, {int64(3), "won!"}}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Fatalf("rows %v, want %v", res.Rows, want)
	}
}

func TestDescribe(t *testing.T) {
	e := openEngine(t)
	empty := seedInput(t)
	empty.Rows = nil
	tests := []struct {
		name string
		sql  string
		want []OutputColumn
	}{
		{"seed model", seedSQL, []OutputColumn{{"lead_id", "BIGINT"}, {"email", "VARCHAR"}, {"phone", "VARCHAR"},
			{"created_date", "DATE"}, {"status_ptbr", "VARCHAR"}}},
		{"nested and computed", `SELECT {'id': lead_id, 'at': created_at} AS info, list(email) OVER () AS emails,
			count(*) OVER () AS n, CAST(lead_id AS DECIMAL(12,3)) AS amount FROM src__ploomes__leads`,
			[]OutputColumn{{"info", `STRUCT("id" BIGINT, "at" TIMESTAMPTZ)`}, {"emails", "VARCHAR[]"},
				{"n", "BIGINT"}, {"amount", "DECIMAL(12,3)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cols, err := e.Describe(context.Background(), tt.sql, []Input{empty})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cols, tt.want) {
				t.Fatalf("columns %v, want %v", cols, tt.want)
			}
			// Run agrees with Describe.
			res := run(t, e, tt.sql, seedInput(t))
			if !reflect.DeepEqual(res.Columns, tt.want) {
				t.Fatalf("Run columns %v, want %v", res.Columns, tt.want)
			}
		})
	}
	if _, err := e.Describe(context.Background(), `SELECT nope FROM src__ploomes__leads`, []Input{empty}); !errors.Is(err, ErrQuery) {
		t.Fatalf("err = %v, want ErrQuery", err)
	}
}

func TestTextResults(t *testing.T) {
	e := openEngine(t)
	res := run(t, e, `SELECT lead_id, {'email': email, 'tags': ['a', 'b']} AS info,
		CAST('0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b' AS UUID) AS uid, INTERVAL 90 MINUTE AS wait
		FROM src__ploomes__leads WHERE lead_id = 2;`, seedInput(t))
	want := []any{int64(2), `{"email":"bob@x.io","tags":["a","b"]}`, "0b8a1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b", "01:30:00"}
	if !reflect.DeepEqual(res.Rows[0], want) {
		t.Fatalf("row %v, want %v", res.Rows[0], want)
	}
}

func TestNoExternalAccess(t *testing.T) {
	e := openEngine(t)
	_, err := e.Run(context.Background(), `SELECT * FROM read_csv('/etc/passwd')`, nil)
	if !errors.Is(err, ErrQuery) {
		t.Fatalf("err = %v, want ErrQuery", err)
	}
}

func TestClosedEngine(t *testing.T) {
	e, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Run(context.Background(), "SELECT 1", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run: %v, want ErrClosed", err)
	}
	if _, err := e.Describe(context.Background(), "SELECT 1", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Describe: %v, want ErrClosed", err)
	}
	if _, err := Open(Options{Threads: -1}); err == nil {
		t.Fatal("Open with negative threads succeeded")
	}
	if _, err := Open(Options{MemoryLimit: "lots"}); err == nil || !strings.Contains(err.Error(), "memory_limit") {
		t.Fatalf("Open with a bad memory limit: %v", err)
	}
}
