package duck

import (
	"fmt"
	"time"
)

// decodeEnvelope reads a Debezium envelope: one pass skips over every field
// while noting where before and after start and reading op and the source
// time, then the row image the op calls for (before for d, else after) is
// decoded in place.
func (s *InputSchema) decodeEnvelope(r *reader, row []any) error {
	fields := s.root.fields
	beforeAt, afterAt := -1, -1
	var op string
	var srcTS, envTS any
	for i, f := range fields {
		var err error
		switch i {
		case s.env.before, s.env.after:
			var b *atype
			if b, err = r.branch(f.typ); err != nil {
				break
			}
			if b.kind != kNull {
				if i == s.env.before {
					beforeAt = r.i
				} else {
					afterAt = r.i
				}
			}
			err = skip(r, b, 1)
		case s.env.op:
			var a, b int
			if a, b, err = r.span(); err == nil {
				op = opString(r.b[a:b])
			}
		case s.env.source:
			srcTS, err = s.decodeSource(r, f.typ)
		case s.env.tsMs:
			envTS, err = decodeMillis(r, f.typ)
		default:
			err = skip(r, f.typ, 0)
		}
		if err != nil {
			return fmt.Errorf("envelope field %s: %w", f.name, err)
		}
	}
	end := r.i
	at := afterAt
	if op == "d" {
		at = beforeAt
	}
	if at >= 0 {
		r.i = at
		if err := s.decodeRow(r, row); err != nil {
			return err
		}
		r.i = end
	}
	n := len(s.cols)
	if op != "" {
		row[n] = op
	}
	row[n+1] = op == "d"
	if srcTS == nil {
		srcTS = envTS
	}
	row[n+2] = srcTS
	return nil
}

// opString returns op without allocating for the Debezium ops.
func opString(b []byte) string {
	if len(b) == 1 {
		switch b[0] {
		case 'c':
			return "c"
		case 'u':
			return "u"
		case 'd':
			return "d"
		case 'r':
			return "r"
		case 't':
			return "t"
		}
	}
	return string(b)
}

// decodeSource reads the source record, returning its ts_ms as a time.
func (s *InputSchema) decodeSource(r *reader, t *atype) (any, error) {
	var ts any
	for i, f := range t.fields {
		var err error
		if i == s.env.sourceTS {
			ts, err = decodeMillis(r, f.typ)
		} else {
			err = skip(r, f.typ, 1)
		}
		if err != nil {
			return nil, fmt.Errorf("source.%s: %w", f.name, err)
		}
	}
	return ts, nil
}

// decodeMillis reads a long or nullable long of epoch milliseconds.
func decodeMillis(r *reader, t *atype) (any, error) {
	if t.kind == kUnion {
		b, err := r.branch(t)
		if err != nil || b.kind == kNull {
			return nil, err
		}
	}
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	return time.UnixMilli(n).UTC(), nil
}

// skip moves r past one value of type t without keeping it.
func skip(r *reader, t *atype, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	var err error
	switch t.kind {
	case kNull:
	case kBoolean:
		_, err = r.bool()
	case kInt, kLong, kEnum:
		_, err = r.long()
	case kFloat:
		_, err = r.fixed(4)
	case kDouble:
		_, err = r.fixed(8)
	case kBytes, kString:
		_, _, err = r.span()
	case kFixed:
		_, err = r.fixed(t.size)
	case kRecord:
		for _, f := range t.fields {
			if err = skip(r, f.typ, depth+1); err != nil {
				return err
			}
		}
	case kUnion:
		var b *atype
		if b, err = r.branch(t); err == nil {
			err = skip(r, b, depth+1)
		}
	case kArray, kMap:
		err = blocks(r, t, func() error {
			if t.kind == kMap {
				if _, _, err := r.span(); err != nil {
					return err
				}
			}
			return skip(r, t.items, depth+1)
		})
	}
	return err
}

// blocks walks the blocks of an array or map, calling item once per item.
// Block counts the remaining bytes cannot hold are rejected before any item
// is read.
func blocks(r *reader, t *atype, item func() error) error {
	itemMin := t.items.minSize()
	if t.kind == kMap {
		itemMin++
	}
	total := int64(0)
	for {
		n, err := r.long()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			n = -n
			if n < 0 {
				return errCount
			}
			if _, err := r.long(); err != nil { // block size in bytes
				return err
			}
		}
		total += n
		if itemMin > 0 && n > int64((len(r.b)-r.i)/itemMin) || itemMin == 0 && total > maxZeroSizeItems {
			return errCount
		}
		for range n {
			if err := item(); err != nil {
				return err
			}
		}
	}
}
