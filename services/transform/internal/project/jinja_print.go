package project

import (
	"strings"
)

// str writes v as Jinja prints it (Python's str).
func (r *renderer) str(at pos, v any, b *strings.Builder) error {
	switch t := v.(type) {
	case string:
		if b.Len()+len(t) > maxTemplate {
			return errAt(at, ErrInvalid, "rendered value is larger than %d bytes", maxTemplate)
		}
		b.WriteString(t)
		return r.spend(at, len(t)/64)
	case relValue:
		b.WriteString(t.text)
		return nil
	}
	return r.repr(at, v, b)
}

// repr writes v as Python's repr (used inside lists and dicts).
func (r *renderer) repr(at pos, v any, b *strings.Builder) error {
	if err := r.spend(at, 1); err != nil {
		return err
	}
	if b.Len() > maxTemplate {
		return errAt(at, ErrInvalid, "rendered value is larger than %d bytes", maxTemplate)
	}
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(itoa(t))
	case float64:
		b.WriteString(pyFloat(t))
	case string:
		b.WriteString(pyQuote(t))
		return r.spend(at, len(t)/64)
	case relValue:
		b.WriteString(pyQuote(t.text))
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := r.repr(at, x, b); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *dict:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := r.repr(at, k, b); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := r.repr(at, t.vals[i], b); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	}
	return nil
}
