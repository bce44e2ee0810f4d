package warehouse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLoadSchema(t *testing.T) {
	s, err := LoadSchema("testdata/warehouse.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Schema{
		Tables: []*Table{
			{Name: "fct_subscriptions", Kind: Fact, Topic: "curated.fct_subscriptions", Key: []string{"subscription_id"},
				EventTime: "updated_at", Columns: []Column{
					{Name: "subscription_id", Type: Type{Base: "text"}, Field: "subscription_id"},
					{Name: "monthly_value", Type: Type{Base: "numeric", Precision: 18, Scale: 2}, Field: "monthly_value"},
					{Name: "date_month", Type: Type{Base: "date"}, Field: "date_month"},
					{Name: "is_active", Type: Type{Base: "boolean"}, Field: "is_active"},
					{Name: "updated_at", Type: Type{Base: "timestamp"}, Field: "updated_at"},
					{Name: "customer_id", Type: Type{Base: "text"}, Field: "customerId"},
				},
				Joins: []Join{{Dimension: "dim_customers", Column: "customer_id", AsOf: "date_month"}},
				File:  "testdata/warehouse.yml", Line: 3},
			{Name: "dim_customers", Kind: Dimension, Topic: "curated.dim_customers", Key: []string{"customer_id"}, SCD: 2,
				Columns: []Column{
					{Name: "customer_id", Type: Type{Base: "text"}, Field: "customer_id"},
					{Name: "customer_segment", Type: Type{Base: "text"}, Field: "customer_segment"},
				}, File: "testdata/warehouse.yml", Line: 17},
			{Name: "fct_clicks", Kind: Fact, Topic: "curated.clicks.v2", Columns: []Column{
				{Name: "click_id", Type: Type{Base: "bigint"}, Field: "click_id"},
				{Name: "n", Type: Type{Base: "integer"}, Field: "n"},
				{Name: "score", Type: Type{Base: "double"}, Field: "score"},
			}, File: "testdata/warehouse.yml", Line: 24},
		},
		Rollups: []Rollup{{Name: "rollup_mrr_month_segment", Metric: "mrr", Grain: "month",
			Dimensions: []string{"customer_segment"}, File: "testdata/warehouse.yml", Line: 32}},
	}
	if !reflect.DeepEqual(s, want) {
		for i := range s.Tables {
			t.Logf("%+v", *s.Tables[i])
		}
		t.Fatalf("parsed %+v", s)
	}
}

func TestTypoKeyIsAnError(t *testing.T) {
	_, err := LoadSchema("testdata/typo_key.yml")
	if err == nil || !errors.Is(err, ErrInvalidSchema) {
		t.Fatalf("got %v, want an ErrInvalidSchema", err)
	}
	for _, want := range []string{`testdata/typo_key.yml:5:5: table: colums: unknown key (did you mean "columns"?)`,
		"testdata/typo_key.yml:3:5: table fct_a: columns: missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

const baseTables = `
  - name: dim_c
    kind: dimension
    key: [id]
    columns: [{name: id, type: text}, {name: seg, type: text}]
  - name: dim_h
    kind: dimension
    scd: 2
    key: [id]
    columns: [{name: id, type: text}]
`

func TestParseSchemaErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"version", "version: 2\ntables: []", "x.yml:1:10: version: unsupported version \"2\" (want 1)"},
		{"no tables", "version: 1\n", "tables: missing"},
		{"bad name", "version: 1\ntables:\n  - {name: Fct, kind: fact, columns: [{name: a, type: text}]}",
			`x.yml:3:12: table: name: "Fct" is not a SQL identifier`},
		{"reserved prefix", "version: 1\ntables:\n  - {name: riacho_x, kind: fact, columns: [{name: a, type: text}]}", "riacho_ prefix is reserved"},
		{"kind", "version: 1\ntables:\n  - {name: f, kind: facts, columns: [{name: a, type: text}]}",
			`table f: kind: "facts" is not fact or dimension (did you mean "fact"?)`},
		{"type", "version: 1\ntables:\n  - {name: f, kind: fact, columns: [{name: a, type: txt}]}",
			`x.yml:3:53: table f: column a: type: unknown type "txt" (did you mean "text"?)`},
		{"numeric precision", "version: 1\ntables:\n  - {name: f, kind: fact, columns: [{name: a, type: \"numeric(39,2)\"}]}", "want numeric(p,s) with 1 <= p <= 38"},
		{"numeric scale", "version: 1\ntables:\n  - {name: f, kind: fact, columns: [{name: a, type: \"numeric(4,5)\"}]}", "0 <= s <= p"},
		{"dup column", "version: 1\ntables:\n  - {name: f, kind: fact, columns: [{name: a, type: text}, {name: a, type: date}]}", "table f: column a: name: duplicate column"},
		{"dup table", "version: 1\ntables:" + baseTables + "  - {name: dim_c, kind: fact, topic: x, columns: [{name: a, type: text}]}", "table dim_c: name: duplicate table (also at line 3)"},
		{"dup topic", "version: 1\ntables:" + baseTables + "  - {name: f, kind: fact, topic: curated.dim_c, columns: [{name: a, type: text}]}", "topic curated.dim_c already feeds table dim_c"},
		{"key column", "version: 1\ntables:\n  - {name: f, kind: fact, key: [idd], columns: [{name: id, type: text}]}", `table f: key: no column "idd" (did you mean "id"?)`},
		{"dimension key", "version: 1\ntables:\n  - {name: d, kind: dimension, columns: [{name: id, type: text}]}", "table d: key: missing: a dimension needs a unique key"},
		{"event_time type", "version: 1\ntables:\n  - {name: f, kind: fact, event_time: a, columns: [{name: a, type: text}]}", "event_time: column a is text; want a date or timestamp column"},
		{"scd on fact", "version: 1\ntables:\n  - {name: f, kind: fact, scd: 2, columns: [{name: a, type: text}]}", "scd: only dimensions"},
		{"scd value", "version: 1\ntables:\n  - {name: d, kind: dimension, scd: 3, key: [a], columns: [{name: a, type: text}]}", `scd: want 1 or 2, got "3"`},
		{"reserved scd2 column", "version: 1\ntables:\n  - {name: d, kind: dimension, scd: 2, key: [a], columns: [{name: a, type: text}, {name: valid_to, type: date}]}",
			"valid_to is reserved on a type 2 dimension"},
		{"join target", "version: 1\ntables:" + baseTables + "  - {name: f, kind: fact, columns: [{name: c, type: text}], joins: [{dimension: dim_x, column: c}]}",
			`table f: joins: no table "dim_x" (did you mean "dim_c"?)`},
		{"join to fact", "version: 1\ntables:" + baseTables + "  - {name: f, kind: fact, columns: [{name: c, type: text}], joins: [{dimension: f, column: c}]}",
			"f is a fact, not a dimension"},
		{"join column", "version: 1\ntables:" + baseTables + "  - {name: f, kind: fact, columns: [{name: c, type: text}], joins: [{dimension: dim_c, column: cc}]}",
			`no column "cc"`},
		{"join type", "version: 1\ntables:" + baseTables + "  - {name: f, kind: fact, columns: [{name: c, type: bigint}], joins: [{dimension: dim_c, column: c}]}",
			"column c is bigint but the key dim_c.id is text"},
		{"as_of scd1", "version: 1\ntables:" + baseTables + "  - {name: f, kind: fact, columns: [{name: c, type: text}, {name: d, type: date}], joins: [{dimension: dim_c, column: c, as_of: d}]}",
			"as_of is only for type 2 dimensions; dim_c is type 1"},
		{"as_of type", "version: 1\ntables:" + baseTables + "  - {name: f, kind: fact, columns: [{name: c, type: text}, {name: d, type: text}], joins: [{dimension: dim_h, column: c, as_of: d}]}",
			"as_of column d is text; want date or timestamp"},
		{"composite join", "version: 1\ntables:\n  - {name: d, kind: dimension, key: [a, b], columns: [{name: a, type: text}, {name: b, type: text}]}\n  - {name: f, kind: fact, columns: [{name: c, type: text}], joins: [{dimension: d, column: c}]}",
			"has a 2-column key; a join needs a single-column key"},
		{"joins on dimension", "version: 1\ntables:\n  - {name: d, kind: dimension, key: [a], columns: [{name: a, type: text}], joins: []}", "only facts join dimensions"},
		{"rollup grain", "version: 1\ntables:" + baseTables + "rollups:\n  - {name: r, metric: m, grain: months}", `grain: "months" is not one of day, week, month, quarter, year, all_time (did you mean "month"?)`},
		{"rollup key", "version: 1\ntables:" + baseTables + "rollups:\n  - {name: r, metric: m, grain: month, dimension: [a]}", `dimension: unknown key (did you mean "dimensions"?)`},
		{"rollup name clash", "version: 1\ntables:" + baseTables + "rollups:\n  - {name: dim_c, metric: m, grain: month}", "rollup dim_c: name: a table has this name"},
		{"yaml", "version: 1\ntables: [", "x.yml: parse yaml"},
		{"not a mapping", "- a\n- b", "x.yml:1:1: want a mapping, got a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSchema("x.yml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !errors.Is(err, ErrInvalidSchema) {
				t.Errorf("%v does not wrap ErrInvalidSchema", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, c.want)
			}
		})
	}
}

func TestAllErrorsReported(t *testing.T) {
	_, err := ParseSchema("x.yml", []byte("version: 1\ntables:\n  - {name: a, kind: fact, colour: red, columns: [{name: x, type: foo}]}\n  - {name: b, kind: dim, columns: []}\n"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"colour: unknown key", `unknown type "foo"`, `kind: "dim" is not fact or dimension`, "columns: want a non-empty list"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func FuzzParseSchema(f *testing.F) {
	f.Add([]byte(testSchemaYAML))
	f.Add([]byte("version: 1\ntables:" + baseTables))
	f.Add([]byte("version: 1\ntables:\n  - {name: f, kind: fact, columns: [{name: a, type: \"numeric(3,1)\"}], joins: [{dimension: f, column: a, as_of: a}]}\nrollups: [{name: r, metric: m, grain: day, dimensions: [a, a]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSchema("fuzz.yml", data)
		if err != nil {
			if !errors.Is(err, ErrInvalidSchema) && !strings.Contains(err.Error(), "fuzz.yml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		// A schema that parses is one the loader can use.
		for _, tab := range s.Tables {
			if !identRe.MatchString(tab.Name) || len(tab.Columns) == 0 || tab.Topic == "" {
				t.Fatalf("accepted table %+v", tab)
			}
			for _, k := range tab.Key {
				if tab.Column(k) == nil {
					t.Fatalf("key %s not a column of %s", k, tab.Name)
				}
			}
			for _, c := range tab.Columns {
				if _, err := ParseType(c.Type.String()); err != nil || !identRe.MatchString(c.Name) {
					t.Fatalf("accepted column %+v", c)
				}
			}
			if tab.Kind == Dimension && len(tab.Key) == 0 {
				t.Fatalf("dimension %s without key", tab.Name)
			}
		}
	})
}
