package envelope

import (
	"fmt"
	"slices"
)

// Compile checks t and keeps its derived layout, so Value and KeyOf need not
// derive it per event. Call it before t is shared between goroutines, and
// do not change t afterwards: a changed table is a new Table. Value and KeyOf
// work without it, only slower.
func (t *Table) Compile() error {
	l, err := t.compile()
	if err != nil {
		return err
	}
	t.cache = l
	return nil
}

func (t *Table) layout() (*layout, error) {
	if t.cache != nil {
		return t.cache, nil
	}
	return t.compile()
}

// Value is the goavro native form of ev under t's value schema.
func (t *Table) Value(ev *Event) (map[string]any, error) {
	if !ev.Op.Valid() {
		return nil, fmt.Errorf("envelope: table %s: unknown op %q", t.ID(), byte(ev.Op))
	}
	l, err := t.layout()
	if err != nil {
		return nil, err
	}
	before, err := l.row(t, ev.Before, nil)
	if err != nil {
		return nil, fmt.Errorf("before: %w", err)
	}
	after, err := l.row(t, ev.After, ev.Unchanged)
	if err != nil {
		return nil, fmt.Errorf("after: %w", err)
	}
	unchanged := make([]any, 0, len(ev.Unchanged))
	for _, c := range ev.Unchanged {
		unchanged = append(unchanged, c)
	}
	s := &ev.Source
	src := map[string]any{
		"version":   orDefault(s.Version, Version),
		"connector": orDefault(s.Connector, t.Connector),
		"name":      orDefault(s.Name, t.Source),
		"ts_ms":     s.TsMs,
		"snapshot":  nullString(s.Snapshot),
		"db":        orDefault(s.DB, t.DB),
		"schema":    orDefault(s.Schema, t.Schema),
		"table":     orDefault(s.Table, t.Name),
		"txId":      nullLong(s.TxID),
		"lsn":       nullLong(s.LSN),
		"cursor":    nullString(s.Cursor),
	}
	return map[string]any{
		"before":    wrap(l.ns+".Value", before),
		"after":     wrap(l.ns+".Value", after),
		"source":    src,
		"op":        string(rune(ev.Op)),
		"ts_ms":     nullLong(ev.TsMs),
		"unchanged": unchanged,
	}, nil
}

// row is the native form of a Value record, or nil for a nil row.
func (l *layout) row(t *Table, r Row, unchanged []string) (map[string]any, error) {
	if r == nil {
		return nil, nil
	}
	for c := range r {
		if _, ok := l.byColumn[c]; !ok {
			return nil, fmt.Errorf("envelope: table %s has no column %q", t.ID(), c)
		}
	}
	out := make(map[string]any, len(l.fields))
	for i := range l.fields {
		f := &l.fields[i]
		if len(unchanged) > 0 && slices.Contains(unchanged, f.column) {
			switch f.kind {
			case "string":
				out[f.name] = map[string]any{f.branch: Unavailable}
			case "bytes":
				if f.branch == "bytes" {
					out[f.name] = map[string]any{f.branch: []byte(Unavailable)}
					continue
				}
				out[f.name] = nil
			default:
				out[f.name] = nil
			}
			continue
		}
		v := r[f.column]
		if v == nil {
			out[f.name] = nil
			continue
		}
		if f.elem != "" {
			items, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("envelope: table %s column %q: want []any, got %T", t.ID(), f.column, v)
			}
			wrapped := make([]any, len(items))
			for j, x := range items {
				if x != nil {
					wrapped[j] = map[string]any{f.elem: x}
				}
			}
			v = wrapped
		}
		out[f.name] = map[string]any{f.branch: v}
	}
	return out, nil
}

// KeyOf is the goavro native form of the key record taken from row; nil
// when t has no key. A key column missing from row, or null, is an error.
func (t *Table) KeyOf(row Row) (map[string]any, error) {
	l, err := t.layout()
	if err != nil {
		return nil, err
	}
	if l.keyRec == nil {
		return nil, nil
	}
	out := make(map[string]any, len(l.key))
	for _, i := range l.key {
		f := &l.fields[i]
		v := row[f.column]
		if v == nil {
			return nil, fmt.Errorf("envelope: table %s: key column %q is null or missing", t.ID(), f.column)
		}
		out[f.name] = v
	}
	return out, nil
}

func wrap(branch string, v map[string]any) any {
	if v == nil {
		return nil
	}
	return map[string]any{branch: v}
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return map[string]any{"string": s}
}

func nullLong(n int64) any {
	if n == 0 {
		return nil
	}
	return map[string]any{"long": n}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
