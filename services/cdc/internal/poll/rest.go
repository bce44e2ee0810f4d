package poll

import (
	"errors"
	"fmt"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/envelope"
)

// JSONEntity maps the JSON objects of one REST entity to Records: key
// fields, cursor fields and configured typed fields become columns, and the
// whole object is kept as a string in _raw so nothing the source sent is
// lost. The REST fetchers share it.
type JSONEntity struct {
	cfg     EntityConfig
	loc     *time.Location
	columns []jsonColumn
	nkey    int
	table   envelope.Table
}

type jsonColumn struct {
	name string
	typ  FieldType
}

// NewJSONEntity prepares e (defaults applied); cursor are the cursor fields
// the source's fetcher reads (their types fixed by the source), and loc the
// zone of timestamps written without an offset. The table's Source is left
// to the poller.
func NewJSONEntity(e EntityConfig, cursor []FieldConfig, loc *time.Location, connector, db, schema string) (*JSONEntity, error) {
	j := &JSONEntity{cfg: e, loc: loc}
	seen := map[string]bool{RawColumn: true}
	add := func(f FieldConfig) error {
		if seen[f.Name] {
			return nil
		}
		seen[f.Name] = true
		t, err := ParseFieldType(f.Type)
		if err != nil {
			return fmt.Errorf("entity %s field %s: %w", e.Name, f.Name, err)
		}
		j.columns = append(j.columns, jsonColumn{name: f.Name, typ: t})
		return nil
	}
	var errs []error
	for _, k := range e.Key {
		errs = append(errs, add(k))
	}
	j.nkey = len(j.columns)
	if j.nkey != len(e.Key) {
		errs = append(errs, fmt.Errorf("entity %s: a key field is named twice", e.Name))
	}
	for _, f := range cursor {
		errs = append(errs, add(f))
	}
	for _, f := range e.Fields {
		errs = append(errs, add(f))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t := envelope.Table{Connector: connector, DB: db, Schema: schema, Name: e.Table()}
	for _, c := range j.columns {
		t.Columns = append(t.Columns, envelope.Field{Name: c.name, Type: c.typ.Avro(), SourceType: c.typ.String()})
	}
	t.Columns = append(t.Columns, envelope.Field{Name: RawColumn, Type: "string", SourceType: "json"})
	for _, k := range e.Key {
		t.Key = append(t.Key, k.Name)
	}
	j.table = t
	return j, nil
}

// Config is the entity's configuration.
func (j *JSONEntity) Config() EntityConfig { return j.cfg }

// Table returns a fresh copy of the entity's table (without Source).
func (j *JSONEntity) Table() *envelope.Table {
	t := j.table
	t.Columns = append([]envelope.Field(nil), j.table.Columns...)
	t.Key = append([]string(nil), j.table.Key...)
	return &t
}

// Record turns one raw JSON object into a Record; tsOf reads its change
// time from the decoded object. A row whose object, key or change time does
// not parse comes back with Err set.
func (j *JSONEntity) Record(raw []byte, tsOf func(obj map[string]any) (time.Time, error)) Record {
	rec := Record{Raw: raw}
	obj, err := DecodeObject(raw)
	if err != nil {
		rec.Err = err
		return rec
	}
	rec.Values = make(envelope.Row, len(j.columns)+1)
	for i, c := range j.columns {
		v, err := c.typ.FromJSON(obj[c.name], j.loc)
		if i < j.nkey {
			if err == nil && v == nil {
				err = errors.New("missing or null")
			}
			if err != nil {
				rec.Err = fmt.Errorf("key field %s: %w", c.name, err)
				return rec
			}
			rec.Key = append(rec.Key, v)
		} else if err != nil {
			rec.Problems = append(rec.Problems, fmt.Errorf("field %s: %w", c.name, err))
			v = nil
		}
		rec.Values[c.name] = v
	}
	ts, err := tsOf(obj)
	if err != nil {
		rec.Err = fmt.Errorf("change time: %w", err)
		return rec
	}
	rec.TS = ts.UTC()
	rec.Values[RawColumn] = string(raw)
	return rec
}
