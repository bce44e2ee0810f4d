package avrofuzz

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/riacho/riacho/services/sink/internal/avroparquet"
)

const seedSchema = `{"type":"record","name":"All","namespace":"riacho.test","fields":[
 {"name":"id","type":"int"},{"name":"b","type":"boolean"},{"name":"f","type":"float"},{"name":"d","type":"double"},
 {"name":"s","type":"string"},{"name":"bys","type":"bytes"},
 {"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},
 {"name":"fx","type":{"type":"fixed","name":"Four","size":4}},
 {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
 {"name":"decf","type":{"type":"fixed","name":"D16","size":16,"logicalType":"decimal","precision":38,"scale":4}},
 {"name":"decw","type":{"type":"bytes","logicalType":"decimal","precision":40,"scale":4}},
 {"name":"dt","type":{"type":"int","logicalType":"date"}},
 {"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
 {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"lts","type":{"type":"long","logicalType":"local-timestamp-millis"}},
 {"name":"u","type":{"type":"string","logicalType":"uuid"}},
 {"name":"uf","type":{"type":"fixed","name":"U16","size":16,"logicalType":"uuid"}},
 {"name":"rec","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"},{"name":"y","type":["null","string"]}]}},
 {"name":"arr","type":{"type":"array","items":["null","string"]}},
 {"name":"arr_rec","type":{"type":"array","items":"Inner"}},
 {"name":"m","type":{"type":"map","values":{"type":"map","values":"long"}}},
 {"name":"opt","type":["null","Inner"]},
 {"name":"uni","type":["null","string","long","Inner",{"type":"array","items":"int"}]},
 {"name":"nothing","type":"null"},
 {"name":"nested","type":{"type":"array","items":{"type":"array","items":"int"}}}]}`

// FuzzNew feeds arbitrary schema text to New and arbitrary JSON values to
// AppendRow: errors are fine; panics, recovered internal errors, and rows that
// the writer refuses are not.
func FuzzNew(f *testing.F) {
	f.Add(seedSchema, `{"id": 1, "s": "x", "arr": ["a", null], "m": {"k": {"j": 1}}, "uni": {"string": "u"}, "rec": {"x": 1}}`)
	f.Add(`{"type":"record","name":"R","fields":[{"name":"a","type":["null","R"]}]}`, `{"a": null}`)
	f.Add(`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":{"type":"map","values":["null","string","int"]}}}]}`, `{"a": [{"k": {"int": 1}}, {}]}`)
	f.Add(`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, `{"a": 5}`)
	f.Add(`{"type":"record","name":"R","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}}]}`, `{"d": "12.34"}`)
	f.Fuzz(func(t *testing.T, schema, value string) {
		c, err := avroparquet.New(schema, avroparquet.Options{})
		if err != nil {
			if errors.Is(err, avroparquet.ErrInternal) {
				t.Fatalf("schema %q: %v", schema, err)
			}
			return
		}
		_ = c.Schema().String()
		_ = c.IcebergSchema().String()
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			return
		}
		rows, err := c.AppendRow(nil, integral(v))
		if err != nil {
			var fe *avroparquet.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("AppendRow error is not a FieldError: %v", err)
			}
			return
		}
		if len(rows) != 1 {
			t.Fatalf("%d rows", len(rows))
		}
		// a converted row must be writable
		w, err := c.NewWriter(discard{}, avroparquet.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRows(rows); err != nil {
			t.Fatalf("row %v not writable: %v", rows[0], err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// integral turns JSON numbers without a fraction into int64 (the Go type of Avro longs).
func integral(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case []any:
		for i := range x {
			x[i] = integral(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = integral(x[k])
		}
	}
	return v
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
