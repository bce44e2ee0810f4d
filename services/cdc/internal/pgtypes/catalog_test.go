package pgtypes

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riacho/riacho/libs/pgtest"
)

// asText marks an expected value equal to the column's text.
type asTextT struct{}

var asText = asTextT{}

// val is one inserted literal and what Decode must give for it.
type val struct {
	lit  string // SQL expression inserted
	want any    // value form, asText, or an error wrapped by Decode's error
}

// col is one column of the test table.
type col struct {
	name, decl string
	typ        any    // expected Mapping.Type
	source     string // expected Mapping.SourceType
	vals       []val
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}

func utc(y int, m time.Month, d, h, mi, s, us int) time.Time {
	return time.Date(y, m, d, h, mi, s, us*1000, time.UTC)
}

func dec(p, s int) map[string]any {
	return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": p, "scale": s}
}

func arr(items any) map[string]any {
	return map[string]any{"type": "array", "items": []any{"null", items}}
}

var (
	tsMicros = map[string]any{"type": "long", "logicalType": "timestamp-micros"}
	dateType = map[string]any{"type": "int", "logicalType": "date"}
	moodType = map[string]any{"type": "string", "riacho.enum": "mood", "riacho.labels": []any{"sad", "ok", "happy", `très "bien"`}}
)

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func testColumns(extensions bool) []col {
	cols := []col{
		{"c_bool", "bool", "boolean", "boolean", []val{{"true", true}, {"false", false}}},
		{"c_int2", "int2", "int", "smallint", []val{{"-32768", int32(-32768)}, {"32767", int32(32767)}}},
		{"c_int4", "int4", "int", "integer", []val{{"-2147483648", int32(math.MinInt32)}, {"0", int32(0)}}},
		{"c_int8", "int8", "long", "bigint", []val{{"-9223372036854775808", int64(math.MinInt64)}, {"9223372036854775807", int64(math.MaxInt64)}}},
		{"c_oid", "oid", "long", "oid", []val{{"4294967295", int64(4294967295)}, {"0", int64(0)}}},
		{"c_float4", "float4", "float", "real", []val{{"1.5", float32(1.5)}, {"'NaN'", float32(math.NaN())}, {"'-Infinity'", float32(math.Inf(-1))}, {"3.4028235e38", float32(math.MaxFloat32)}, {"'-0'", float32(math.Copysign(0, -1))}}},
		{"c_float8", "float8", "double", "double precision", []val{{"1e300", 1e300}, {"0.1", 0.1}, {"'Infinity'", math.Inf(1)}, {"'NaN'", math.NaN()}, {"5e-324", 5e-324}}},
		{"c_num", "numeric(12,2)", dec(12, 2), "numeric(12,2)", []val{{"1234567890.12", rat("123456789012/100")}, {"-0.01", rat("-1/100")}, {"0", rat("0")}, {"-9999999999.994", rat("-999999999999/100")}}},
		{"c_numbig", "numeric(40,9)", dec(40, 9), "numeric(40,9)", []val{{"12345678901234567890.123456789", rat("12345678901234567890123456789/1000000000")}, {"-9999999999999999999999999999999.999999999", rat("-9999999999999999999999999999999999999999/1000000000")}}},
		{"c_numfree", "numeric", VariableScaleDecimalSchema(), "numeric", []val{
			{"12345678901234567890.123456789", VariableScale(bigInt("12345678901234567890123456789"), 9)},
			{"1.50", VariableScale(big.NewInt(150), 2)},
			{"-5", VariableScale(big.NewInt(-5), 0)},
			{"-128", VariableScale(big.NewInt(-128), 0)},
			{"1e-20", VariableScale(big.NewInt(1), 20)},
			{"'NaN'", ErrNotRepresentable},
			{"'Infinity'", ErrNotRepresentable},
			{"'-Infinity'", ErrNotRepresentable},
		}},
		{"c_numneg", "numeric(3,-1)", dec(4, 0), "numeric(3,-1)", []val{{"9994", rat("9990")}, {"12.3", rat("10")}, {"-15", rat("-20")}}},
		{"c_numsmall", "numeric(2,5)", dec(5, 5), "numeric(2,5)", []val{{"0.000123", rat("12/100000")}, {"-0.00099", rat("-99/100000")}}},
		{"c_money", "money", "string", "money", []val{{"12.34", asText}, {"-1000000.5", asText}}},
		{"c_text", "text", "string", "text", []val{{"E'multi\\nline \\\\ \"quoted\" é 日本'", "multi\nline \\ \"quoted\" é 日本"}, {"''", ""}}},
		{"c_varchar", "varchar(10)", "string", "character varying(10)", []val{{"'abc'", "abc"}}},
		{"c_bpchar", "char(5)", "string", "character(5)", []val{{"'ab'", "ab   "}}},
		{"c_name", "name", "string", "name", []val{{"'pg_class'", "pg_class"}}},
		{"c_bytea", "bytea", "bytes", "bytea", []val{{`'\x` + hex.EncodeToString(allBytes()) + `'`, allBytes()}, {`'\x'`, []byte{}}}},
		{"c_date", "date", dateType, "date", []val{
			{"'2024-02-29'", utc(2024, 2, 29, 0, 0, 0, 0)},
			{"'0044-03-15 BC'", utc(-43, 3, 15, 0, 0, 0, 0)},
			{"'0001-02-29 BC'", utc(0, 2, 29, 0, 0, 0, 0)},
			{"'4713-11-24 BC'", utc(-4712, 11, 24, 0, 0, 0, 0)},
			{"'5874897-12-31'", utc(5874897, 12, 31, 0, 0, 0, 0)},
			{"'infinity'", ErrNotRepresentable},
			{"'-infinity'", ErrNotRepresentable},
		}},
		{"c_ts", "timestamp", tsMicros, "timestamp without time zone", []val{
			{"'2024-01-02 03:04:05.123456'", utc(2024, 1, 2, 3, 4, 5, 123456)},
			{"'0044-03-15 10:00:00 BC'", utc(-43, 3, 15, 10, 0, 0, 0)},
			{"'1969-12-31 23:59:59.999999'", utc(1969, 12, 31, 23, 59, 59, 999999)},
			{"'294246-12-31 23:59:59'", utc(294246, 12, 31, 23, 59, 59, 0)},
			{"'294276-12-31 23:59:59.999999'", ErrNotRepresentable},
			{"'-infinity'", ErrNotRepresentable},
		}},
		{"c_ts3", "timestamp(3)", tsMicros, "timestamp(3) without time zone", []val{{"'2024-01-02 03:04:05.123456'", utc(2024, 1, 2, 3, 4, 5, 123000)}}},
		{"c_tstz", "timestamptz", tsMicros, "timestamp with time zone", []val{
			{"'2024-01-02 03:04:05.123456+02'", utc(2024, 1, 2, 1, 4, 5, 123456)},
			{"'1900-01-01 00:00:00+00'", utc(1900, 1, 1, 0, 0, 0, 0)},
			{"'1800-06-01 12:00:00+00'", utc(1800, 6, 1, 12, 0, 0, 0)},
			{"'0044-03-15 10:00:00+00 BC'", utc(-43, 3, 15, 10, 0, 0, 0)},
			{"'2024-06-01 12:00:00 Asia/Kolkata'", utc(2024, 6, 1, 6, 30, 0, 0)},
			{"'infinity'", ErrNotRepresentable},
		}},
		{"c_time", "time", map[string]any{"type": "long", "logicalType": "time-micros"}, "time without time zone", []val{
			{"'24:00:00'", 24 * time.Hour},
			{"'13:45:00.5'", 13*time.Hour + 45*time.Minute + 500*time.Millisecond},
			{"'00:00:00'", time.Duration(0)},
			{"'23:59:59.999999'", 24*time.Hour - time.Microsecond},
		}},
		{"c_timetz", "timetz", "string", "time with time zone", []val{{"'10:00:00+05:30'", "10:00:00+05:30"}}},
		{"c_interval", "interval", "string", "interval", []val{{"'1 year 2 days 03:00:00.5'", asText}}},
		{"c_uuid", "uuid", map[string]any{"type": "string", "logicalType": "uuid"}, "uuid", []val{{"'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}},
		{"c_json", "json", "string", "json", []val{{`'{"a": [1, 2],  "b": "x"}'`, `{"a": [1, 2],  "b": "x"}`}}},
		{"c_jsonb", "jsonb", "string", "jsonb", []val{{`'{"b": "x", "a": [1, 2]}'`, `{"a": [1, 2], "b": "x"}`}}},
		{"c_xml", "xml", "string", "xml", []val{{"'<a>x</a>'", "<a>x</a>"}}},
		{"c_inet", "inet", "string", "inet", []val{{"'192.168.0.1/24'", "192.168.0.1/24"}}},
		{"c_cidr", "cidr", "string", "cidr", []val{{"'10.0.0.0/8'", "10.0.0.0/8"}}},
		{"c_macaddr", "macaddr", "string", "macaddr", []val{{"'08:00:2b:01:02:03'", "08:00:2b:01:02:03"}}},
		{"c_bit", "bit(4)", "string", "bit(4)", []val{{"B'1010'", "1010"}}},
		{"c_varbit", "varbit(8)", "string", "bit varying(8)", []val{{"B'101'", "101"}}},
		{"c_tsvector", "tsvector", "string", "tsvector", []val{{"'a fat cat'", "'a' 'cat' 'fat'"}}},
		{"c_range", "int4range", "string", "int4range", []val{{"'[1,10)'", "[1,10)"}}},
		{"c_pair", "pair", "string", "pair", []val{{"ROW(1, 'x y')", `(1,"x y")`}}},
		{"c_point", "point", "string", "point", []val{{"'(1,2)'", "(1,2)"}}},
		{"c_mood", "mood", moodType, "mood", []val{{"'happy'", "happy"}, {`'très "bien"'`, `très "bien"`}}},
		{"c_posint", "posint", "int", "posint", []val{{"42", int32(42)}}},
		{"c_money2", "money2", dec(10, 2), "money2", []val{{"12.345", rat("1235/100")}}},
		{"c_intlist", "intlist", arr("int"), "intlist", []val{{"'{1,2}'", []any{int32(1), int32(2)}}}},
		{"c_intlistarr", "intlist[]", "string", "intlist[]", []val{{`'{"{1,2}","{3}"}'`, `{"{1,2}","{3}"}`}}},
		{"c_intarr", "int4[]", arr("int"), "integer[]", []val{
			{"'{1,NULL,3}'", []any{int32(1), nil, int32(3)}},
			{"'{}'", []any{}},
			{"'[0:1]={5,6}'", []any{int32(5), int32(6)}},
			{"'{{1,2},{3,4}}'", ErrNotRepresentable},
			{"'{NULL}'", []any{nil}},
		}},
		{"c_textarr", "text[]", arr("string"), "text[]", []val{
			{`ARRAY['a b', NULL, 'NULL', E'x\\y', 'q"', '', ' lead', '{}', 'é', 'a,b', 'trail ', E'\\"\\\\', 'null']`,
				[]any{"a b", nil, "NULL", `x\y`, `q"`, "", " lead", "{}", "é", "a,b", "trail ", `\"\\`, "null"}},
		}},
		{"c_numarr", "numeric(5,2)[]", arr(dec(5, 2)), "numeric(5,2)[]", []val{{"'{1.5,NULL,-2}'", []any{rat("3/2"), nil, rat("-2")}}}},
		{"c_numfreearr", "numeric[]", arr(VariableScaleDecimalSchema()), "numeric[]", []val{
			{"'{1.50,-7}'", []any{VariableScale(big.NewInt(150), 2), VariableScale(big.NewInt(-7), 0)}},
			{"'{1,NaN}'", ErrNotRepresentable},
		}},
		{"c_tsarr", "timestamptz[]", arr(tsMicros), "timestamp with time zone[]", []val{{"ARRAY['2024-01-02 03:04:05+00'::timestamptz, NULL]", []any{utc(2024, 1, 2, 3, 4, 5, 0), nil}}}},
		{"c_moodarr", "mood[]", arr(moodType), "mood[]", []val{{`ARRAY['sad', 'très "bien"']::mood[]`, []any{"sad", `très "bien"`}}}},
		{"c_byteaarr", "bytea[]", arr("bytes"), "bytea[]", []val{{`ARRAY['\x00ff'::bytea, '\x'::bytea, NULL]`, []any{[]byte{0, 255}, []byte{}, nil}}}},
		{"c_datearr", "date[]", arr(dateType), "date[]", []val{{"'{2024-01-01,\"0044-03-15 BC\"}'", []any{utc(2024, 1, 1, 0, 0, 0, 0), utc(-43, 3, 15, 0, 0, 0, 0)}}}},
		{"c_boxarr", "box[]", arr("string"), "box[]", []val{{"ARRAY['(1,2),(3,4)'::box, '(5,6),(7,8)']", []any{"(3,4),(1,2)", "(7,8),(5,6)"}}}},
		{"c_domarr", "money2[]", arr(dec(10, 2)), "money2[]", []val{{"'{1.234}'", []any{rat("123/100")}}}},
		{"c_uuidarr", "uuid[]", arr(map[string]any{"type": "string", "logicalType": "uuid"}), "uuid[]", []val{{"'{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}'", []any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}}},
		{"c_boolarr", "bool[]", arr("boolean"), "boolean[]", []val{{"'{t,f,NULL}'", []any{true, false, nil}}}},
		{"c_jsonarr", "jsonb[]", arr("string"), "jsonb[]", []val{{`ARRAY['{"a": "b,c\"}"}'::jsonb]`, []any{`{"a": "b,c\"}"}`}}}},
		{"c_pairarr", "pair[]", arr("string"), "pair[]", []val{{"ARRAY[ROW(1, 'x y')::pair, NULL]", []any{`(1,"x y")`, nil}}}},
		{"c_timearr", "time[]", arr(map[string]any{"type": "long", "logicalType": "time-micros"}), "time without time zone[]", []val{{"'{24:00:00,00:00:01}'", []any{24 * time.Hour, time.Second}}}},
	}
	if extensions {
		cols = append(cols,
			col{"c_citext", "citext", "string", "citext", []val{{"'MiXeD'", "MiXeD"}}},
			col{"c_hstore", "hstore", "string", "hstore", []val{{`'a=>1, "b c"=>NULL'`, `"a"=>"1", "b c"=>NULL`}}},
		)
	}
	return cols
}

const testTypes = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'très "bien"');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN money2 AS numeric(10,2);
CREATE DOMAIN intlist AS int4[];
CREATE TYPE pair AS (a int, b text);`

// setupTable creates the types and a table with every test column, one row per value
// index (missing cells NULL) and a final all-NULL row.
func setupTable(ctx context.Context, t *testing.T, conn *pgx.Conn) []col {
	t.Helper()
	if _, err := conn.Exec(ctx, testTypes); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Exec(ctx, "CREATE EXTENSION citext; CREATE EXTENSION hstore")
	if err != nil {
		t.Logf("no citext/hstore (%v): not testing them", err)
	}
	cols := testColumns(err == nil)
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE every (id int PRIMARY KEY")
	rows := 0
	for _, c := range cols {
		fmt.Fprintf(&ddl, ", %s %s", c.name, c.decl)
		rows = max(rows, len(c.vals))
	}
	ddl.WriteString(")")
	if _, err := conn.Exec(ctx, ddl.String()); err != nil {
		t.Fatalf("%s: %v", ddl.String(), err)
	}
	for r := 0; r <= rows; r++ {
		names, exprs := []string{"id"}, []string{fmt.Sprint(r)}
		for _, c := range cols {
			if r < len(c.vals) {
				names = append(names, c.name)
				exprs = append(exprs, c.vals[r].lit)
			}
		}
		q := fmt.Sprintf("INSERT INTO every (%s) VALUES (%s)", strings.Join(names, ", "), strings.Join(exprs, ", "))
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return cols
}

// tableColumns reads the table's columns as pgoutput would describe them.
func tableColumns(ctx context.Context, t *testing.T, conn *pgx.Conn, table string) []Column {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT attname, atttypid, atttypmod FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, table)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Column, error) {
		var c Column
		err := r.Scan(&c.Name, &c.OID, &c.TypeMod)
		return c, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

func TestMapAndDecodeEveryType(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	cols := setupTable(ctx, t, conn)
	byName := map[string]Column{}
	for _, c := range tableColumns(ctx, t, conn, "every") {
		byName[c.Name] = c
	}

	cat := NewCatalog(conn)
	maps := make([]Mapping, len(cols))
	for i, c := range cols {
		m, err := cat.Map(ctx, byName[c.name])
		if err != nil {
			t.Fatalf("map %s: %v", c.name, err)
		}
		if !reflect.DeepEqual(m.Type, c.typ) {
			t.Errorf("%s: Type %#v, want %#v", c.name, m.Type, c.typ)
		}
		if m.SourceType != c.source {
			t.Errorf("%s: SourceType %q, want %q", c.name, m.SourceType, c.source)
		}
		maps[i] = m
	}

	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = c.name
	}
	query := "SELECT " + strings.Join(sel, ", ") + " FROM every ORDER BY id"
	// The values must not depend on the session's time zone.
	for _, zone := range []string{"UTC", "America/Sao_Paulo", "Asia/Kathmandu"} {
		t.Run(zone, func(t *testing.T) {
			if _, err := conn.Exec(ctx, "SET TimeZone = '"+zone+"'"); err != nil {
				t.Fatal(err)
			}
			// The text result format gives each type's output function text, as pgoutput sends it.
			rows, err := conn.Query(ctx, query, pgx.QueryResultFormats{pgx.TextFormatCode})
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var avroRows []map[string]any
			for r := 0; rows.Next(); r++ {
				raw := rows.RawValues()
				texts := make([]*string, len(cols))
				for i := range texts {
					if raw[i] != nil {
						s := string(raw[i])
						texts[i] = &s
					}
				}
				avroRow := map[string]any{}
				for i, c := range cols {
					if r >= len(c.vals) {
						if texts[i] != nil {
							t.Errorf("%s row %d: want NULL, got %q", c.name, r, *texts[i])
						}
						continue
					}
					if texts[i] == nil {
						t.Errorf("%s row %d: unexpected NULL", c.name, r)
						continue
					}
					text := *texts[i]
					want := c.vals[r].want
					got, err := maps[i].Decode([]byte(text))
					if wantErr, ok := want.(error); ok {
						if !errors.Is(err, wantErr) {
							t.Errorf("%s %q: got %s, %v; want error %v", c.name, text, show(got), err, wantErr)
						}
						continue
					}
					if want == asText {
						want = text
					}
					if err != nil {
						t.Errorf("%s %q: %v", c.name, text, err)
						continue
					}
					if !equalValue(want, got) {
						t.Errorf("%s %q: got %s, want %s", c.name, text, show(got), show(want))
					}
					avroRow[c.name] = got
				}
				avroRows = append(avroRows, avroRow)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			names := make([]string, len(cols))
			types := make([]any, len(cols))
			for i, c := range cols {
				names[i], types[i] = c.name, maps[i].Type
			}
			roundTrip(t, names, types, avroRows)
		})
	}
}

// TestDecodeTextResultFormat reads values with pgx in the text result format, as the
// replication stream delivers them, rather than through ::text casts.
func TestDecodeTextResultFormat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE r (a int8, b numeric(12,2), c text, d timestamptz, e bool, f bytea, g int4[])`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO r VALUES (-7, 1234567890.12, 'x', '2024-01-02 03:04:05.5+03', true, '\xdeadbeef', '{1,NULL}')`); err != nil {
		t.Fatal(err)
	}
	cols := tableColumns(ctx, t, conn, "r")
	cat := NewCatalog(conn)
	want := []any{int64(-7), rat("123456789012/100"), "x", utc(2024, 1, 2, 0, 4, 5, 500000), true, []byte{0xde, 0xad, 0xbe, 0xef}, []any{int32(1), nil}}
	maps := make([]Mapping, len(cols))
	for i, c := range cols {
		if maps[i], err = cat.Map(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	text := pgx.QueryResultFormats{pgx.TextFormatCode}
	rows, err := conn.Query(ctx, "SELECT * FROM r", text)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal("no row", rows.Err())
	}
	raw := rows.RawValues()
	for i, c := range cols {
		got, err := maps[i].Decode(raw[i])
		if err != nil || !equalValue(want[i], got) {
			t.Errorf("%s %q: got %s, %v; want %s", c.Name, raw[i], show(got), err, show(want[i]))
		}
	}
}

func TestByteaEscapeOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET bytea_output = escape"); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := conn.QueryRow(ctx, `SELECT $1::bytea::text`, allBytes()).Scan(&s); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(s, `\x`) {
		t.Fatalf("server printed hex: %q", s)
	}
	got, err := decodeBytea([]byte(s))
	if err != nil || !equalValue(allBytes(), got) {
		t.Fatalf("escape bytea %q: got %v, %v", s, got, err)
	}
}

func TestMapUnknownAndFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	cat := NewCatalog(conn)

	m, err := cat.Map(ctx, Column{Name: "ghost", OID: 4_000_000_000, TypeMod: -1})
	if err != nil {
		t.Fatalf("unknown oid: %v", err)
	}
	if m.Type != "string" || !strings.Contains(m.SourceType, "4000000000") {
		t.Errorf("unknown oid: %#v", m)
	}
	if v, err := m.Decode([]byte("anything")); err != nil || v != "anything" {
		t.Errorf("unknown oid decode: %v, %v", v, err)
	}

	// Cached: the mapping survives the connection going away, and Forget drops it.
	int8Col := Column{Name: "n", OID: oidInt8, TypeMod: -1}
	if _, err := cat.Map(ctx, int8Col); err != nil {
		t.Fatal(err)
	}
	dead, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	deadCat := NewCatalog(dead)
	if _, err := deadCat.Map(ctx, int8Col); err != nil {
		t.Fatal(err)
	}
	dead.Close(ctx)
	if m, err := deadCat.Map(ctx, int8Col); err != nil || m.Type != "long" {
		t.Errorf("cached mapping after close: %#v, %v", m, err)
	}
	deadCat.Forget()
	if _, err := deadCat.Map(ctx, int8Col); err == nil {
		t.Error("Map after Forget on a closed connection succeeded")
	} else if !strings.Contains(err.Error(), `"n"`) {
		t.Errorf("error does not name the column: %v", err)
	}

	canceled, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := cat.Map(canceled, Column{Name: "t", OID: uint32(pgtype.TextOID), TypeMod: -1}); err == nil {
		t.Error("Map with a canceled context succeeded")
	}
}

// TestForgetSeesDDL checks a re-created enum's labels are seen after Forget.
func TestForgetSeesDDL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TYPE color AS ENUM ('red'); CREATE TABLE p (c color)`); err != nil {
		t.Fatal(err)
	}
	c := tableColumns(ctx, t, conn, "p")[0]
	cat := NewCatalog(conn)
	labels := func() any {
		m, err := cat.Map(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return m.Type.(map[string]any)["riacho.labels"]
	}
	if got := labels(); !reflect.DeepEqual(got, []any{"red"}) {
		t.Fatalf("labels %v", got)
	}
	if _, err := conn.Exec(ctx, `ALTER TYPE color ADD VALUE 'blue'`); err != nil {
		t.Fatal(err)
	}
	if got := labels(); !reflect.DeepEqual(got, []any{"red"}) {
		t.Fatalf("labels before Forget %v (want the cached answer)", got)
	}
	cat.Forget()
	if got := labels(); !reflect.DeepEqual(got, []any{"red", "blue"}) {
		t.Fatalf("labels after Forget %v", got)
	}
}

// TestMapConcurrent maps the same columns from many goroutines on a pool while Forget runs.
func TestMapConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, testTypes+`CREATE TABLE c (a mood[], b money2, c numeric(7,3)[], d posint, e timestamptz)`); err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cols := tableColumns(ctx, t, conn.Conn(), "c")
	conn.Release()
	cat := NewCatalog(pool)
	var first []Mapping
	for _, c := range cols {
		m, err := cat.Map(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, m)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				if g == 0 && i%5 == 0 {
					cat.Forget()
				}
				for j, c := range cols {
					m, err := cat.Map(ctx, c)
					if err != nil {
						errs <- err
						return
					}
					if !reflect.DeepEqual(m.Type, first[j].Type) || m.SourceType != first[j].SourceType {
						errs <- fmt.Errorf("%s: %#v differs from %#v", c.Name, m.Type, first[j].Type)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
