package duck

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// seedSQL is the compiled SQL of the seed model models/staging/stg_ploomes_leads.sql.
const seedSQL = `-- models/staging/stg_ploomes_leads.sql
WITH source AS (
    SELECT * FROM "src__ploomes__leads"
),

cleaned AS (
    SELECT
        lead_id,
        TRIM(LOWER(email)) AS email,
        COALESCE(phone, '') AS phone,
        DATE(created_at) AS created_date,
        CASE 
            WHEN status = 'Won' THEN 'Convertido'
            WHEN status = 'Lost' THEN 'Perdido'
            ELSE 'Em Andamento'
        END AS status_ptbr
    FROM source
    WHERE email IS NOT NULL
)

SELECT * FROM cleaned
`

const leadsSchema = `{"type":"record","name":"Lead","namespace":"riacho.ploomes","fields":[
	{"name":"lead_id","type":"long"},
	{"name":"email","type":["null","string"],"default":null},
	{"name":"phone","type":["null","string"],"default":null},
	{"name":"created_at","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"status","type":"string"}]}`

func lead(id int64, email, phone any, created time.Time, status string) map[string]any {
	n := map[string]any{"lead_id": id, "email": nil, "phone": nil, "created_at": created, "status": status}
	if email != nil {
		n["email"] = goavro.Union("string", email)
	}
	if phone != nil {
		n["phone"] = goavro.Union("string", phone)
	}
	return n
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func day(s string) time.Time { return utc(s + "T00:00:00Z") }

func seedInput(t testing.TB) Input {
	t.Helper()
	codec := codecOf(t, leadsSchema)
	s := inputSchema(t, leadsSchema, UnwrapAuto)
	natives := []map[string]any{
		lead(1, "  Ana@Example.COM ", "+55 11 9999-0000", utc("2024-05-01T00:30:00Z"), "Won"),
		lead(2, "bob@x.io", nil, utc("2024-04-30T23:59:59.999999Z"), "Lost"),
		lead(3, nil, "123", utc("2024-05-02T12:00:00Z"), "Won"),
		lead(4, " Carla@Y.COM", "", utc("1969-12-31T23:00:00Z"), "Open"),
		lead(5, "", "x", utc("2024-05-03T03:00:00Z"), "won"),
	}
	var bodies [][]byte
	for _, n := range natives {
		bodies = append(bodies, goavroBody(t, codec, n))
	}
	return Input{Table: "src__ploomes__leads", Schema: s, Rows: decodeAll(t, s, bodies...)}
}

func TestSeedModel(t *testing.T) {
	e := openEngine(t)
	res := run(t, e, seedSQL, seedInput(t))
	wantCols := []OutputColumn{{"lead_id", "BIGINT"}, {"email", "VARCHAR"}, {"phone", "VARCHAR"},
		{"created_date", "DATE"}, {"status_ptbr", "VARCHAR"}}
	if !reflect.DeepEqual(res.Columns, wantCols) {
		t.Fatalf("columns = %v, want %v", res.Columns, wantCols)
	}
	want := [][]any{
		{int64(1), "ana@example.com", "+55 11 9999-0000", day("2024-05-01"), "Convertido"},
		{int64(2), "bob@x.io", "", day("2024-04-30"), "Perdido"},
		{int64(4), "carla@y.com", "", day("1969-12-31"), "Em Andamento"},
		{int64(5), "", "x", day("2024-05-03"), "Em Andamento"},
	}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Fatalf("rows =\n%v\nwant\n%v", res.Rows, want)
	}
	if res.Stats.Total() <= 0 || res.Stats.Total() != res.Stats.Load+res.Stats.Query+res.Stats.Fetch {
		t.Errorf("stats %+v do not add up", res.Stats)
	}

	// The same batch again re-uses the table and gives the same rows.
	again := run(t, e, seedSQL, seedInput(t))
	if !reflect.DeepEqual(again.Rows, want) {
		t.Fatalf("second run rows = %v", again.Rows)
	}

	// The output encodes to Avro that goavro reads back.
	out, err := NewOutputSchema("stg_ploomes_leads", "riacho.staging", res.Columns, nil)
	if err != nil {
		t.Fatal(err)
	}
	codec := codecOf(t, out.JSON())
	body, err := out.Encode(nil, res.Rows[1])
	if err != nil {
		t.Fatal(err)
	}
	got := goavroDecode(t, codec, body)
	wantNative := map[string]any{
		"lead_id": goavro.Union("long", int64(2)), "email": goavro.Union("string", "bob@x.io"),
		"phone": goavro.Union("string", ""), "created_date": goavro.Union("int.date", day("2024-04-30")),
		"status_ptbr": goavro.Union("string", "Perdido"),
	}
	if !reflect.DeepEqual(got, wantNative) {
		t.Fatalf("goavro decoded %v, want %v", got, wantNative)
	}
}

// TestSessionTimeZoneUTC proves DATE(timestamptz) follows the session time
// zone, and that Open sets it to UTC.
func TestSessionTimeZoneUTC(t *testing.T) {
	e := openEngine(t)
	ctx := context.Background()
	in := seedInput(t)
	in.Rows = in.Rows[:1] // created 2024-05-01T00:30:00Z
	const q = `SELECT DATE(created_at) AS d, current_setting('TimeZone') AS tz FROM src__ploomes__leads`
	tests := []struct {
		name, set string
		wantDay   time.Time
		wantTZ    string
	}{
		{"as opened", "", day("2024-05-01"), "UTC"},
		{"sao paulo", "SET TimeZone = 'America/Sao_Paulo'", day("2024-04-30"), "America/Sao_Paulo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set != "" {
				if _, err := e.conn.ExecContext(ctx, tt.set); err != nil {
					t.Fatal(err)
				}
			}
			res := run(t, e, q, in)
			if got := res.Rows[0]; got[0] != tt.wantDay || got[1] != tt.wantTZ {
				t.Fatalf("got %v, want [%v %s]", got, tt.wantDay, tt.wantTZ)
			}
		})
	}
}
