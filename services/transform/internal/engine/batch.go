package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/transform/internal/duck"
)

// batch is one transaction's worth of output.
type batch struct {
	out, dead  []*kgo.Record
	in         int
	tombstones int
	duplicates int
	duck       time.Duration
}

// segment is a run of consecutive input records of one writer schema.
type segment struct {
	p    *prepared
	rows [][]any
	recs []*kgo.Record
}

// transform turns polled records into output and dead-letter records. It
// fails only for what no single record causes (registry unreachable, the
// model's SQL invalid for a writer schema, DuckDB itself failing): the
// caller aborts the transaction and the records are read again.
func (r *runner) transform(ctx context.Context, recs []*kgo.Record) (*batch, error) {
	b := &batch{in: len(recs)}
	var segs []*segment
	for _, rec := range recs {
		if rec.Value == nil {
			b.tombstones++
			continue
		}
		id, body, err := avro.SplitWire(rec.Value)
		if err != nil {
			b.dead = append(b.dead, r.deadLetter(rec, 0, reasonWire, err))
			continue
		}
		p, err := r.prepare(ctx, id)
		switch {
		case errors.Is(err, avro.ErrSchemaNotFound), errors.Is(err, errUnusableSchema):
			b.dead = append(b.dead, r.deadLetter(rec, id, reasonSchema, err))
			continue
		case err != nil:
			return nil, err
		}
		row, err := p.in.Decode(body)
		if err != nil {
			b.dead = append(b.dead, r.deadLetter(rec, id, reasonDecode, err))
			continue
		}
		if n := len(segs); n == 0 || segs[n-1].p != p {
			segs = append(segs, &segment{p: p})
		}
		s := segs[len(segs)-1]
		s.rows = append(s.rows, row)
		s.recs = append(s.recs, rec)
	}
	now := time.Now()
	for _, s := range segs {
		rows, err := r.runIsolating(ctx, s, 0, len(s.rows), b)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			if err := r.emit(s.p, row, now, b); err != nil {
				b.dead = append(b.dead, r.rowDeadLetter(row, s.p, err))
			}
		}
	}
	return b, nil
}

// runIsolating runs the model over rows[lo:hi]; when DuckDB rejects the
// data (a conversion or range error), it bisects until the failing records
// are alone and sends them to the dead-letter topic.
func (r *runner) runIsolating(ctx context.Context, s *segment, lo, hi int, b *batch) ([][]any, error) {
	res, err := r.duck.Run(ctx, r.m.SQL, []duck.Input{{Table: r.in.Table, Schema: s.p.in, Rows: s.rows[lo:hi]}})
	if err == nil {
		b.duck += res.Stats.Load + res.Stats.Query + res.Stats.Fetch
		return res.Rows, nil
	}
	if ctx.Err() != nil || !isDataError(err) {
		return nil, fmt.Errorf("model %s: run batch: %w", r.m.Name, err)
	}
	if hi-lo == 1 {
		b.dead = append(b.dead, r.deadLetter(s.recs[lo], s.p.inID, reasonSQL, err))
		return nil, nil
	}
	mid := lo + (hi-lo)/2
	left, err := r.runIsolating(ctx, s, lo, mid, b)
	if err != nil {
		return nil, err
	}
	right, err := r.runIsolating(ctx, s, mid, hi, b)
	if err != nil {
		return nil, err
	}
	return append(left, right...), nil
}

// isDataError reports whether a DuckDB error comes from the values of the
// batch (so bisecting isolates the records at fault) rather than from the
// query or the engine.
func isDataError(err error) bool {
	msg := err.Error()
	for _, kind := range []string{"Conversion Error", "Invalid Input Error", "Out of Range Error", "Constraint Error", "Overflow"} {
		if strings.Contains(msg, kind) {
			return true
		}
	}
	return false
}

// emit masks, keys, encodes and de-duplicates one output row.
func (r *runner) emit(p *prepared, row []any, now time.Time, b *batch) error {
	for _, m := range p.masks {
		row[m.col] = r.e.masker.Apply(m.policy, row[m.col])
	}
	r.buf = r.buf[:0]
	r.buf = avro.AppendWire(r.buf, p.outID, nil)
	var err error
	if r.buf, err = p.out.Encode(r.buf, row); err != nil {
		return fmt.Errorf("encode output row: %w", err)
	}
	var key []byte
	if len(p.keys) > 0 {
		k, err := rowKey(row, p.keys)
		if err != nil {
			return err
		}
		key = []byte(k)
		if r.dd.enabled() {
			e := entry{hash: xxhash.Sum64(r.buf[avro.HeaderSize:]), at: now.UnixMilli()}
			if p.version >= 0 {
				e.version = normalizeVersion(row[p.version])
			}
			if r.dd.duplicate(k, e) {
				b.duplicates++
				return nil
			}
		}
	}
	value := make([]byte, len(r.buf))
	copy(value, r.buf)
	b.out = append(b.out, &kgo.Record{
		Topic: r.m.OutputTopic, Key: key, Value: value, Timestamp: now,
		Headers: []kgo.RecordHeader{{Key: HeaderModel, Value: []byte(r.m.Name)}, {Key: HeaderSource, Value: []byte("transform")}},
	})
	return nil
}

// rowKey is the record key of a row: the unique_key value as text, or a
// JSON array of the values for a compound key. A null key is an error.
func rowKey(row []any, cols []int) (string, error) {
	if len(cols) == 1 {
		return keyText(row[cols[0]])
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		t, err := keyText(row[c])
		if err != nil {
			return "", err
		}
		parts[i] = t
	}
	j, err := json.Marshal(parts)
	return string(j), err
}

func keyText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", errors.New("unique_key value is null")
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	default:
		return fmt.Sprint(x), nil
	}
}
