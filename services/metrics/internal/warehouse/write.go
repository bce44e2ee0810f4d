package warehouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

var (
	// errFenced: the warehouse's offsets moved under the loader (another
	// loader loaded these partitions); the transaction was rolled back.
	errFenced = errors.New("loader offsets moved in the warehouse")
	// errDataRefused: the warehouse refused a value of the batch.
	errDataRefused = errors.New("the warehouse refused a value")
)

// op is one record, decoded and converted.
type op struct {
	rec   *kgo.Record
	del   bool
	key   []any
	row   []any
	ts    time.Time // Kafka record timestamp, UTC, microseconds
	event time.Time // event time for freshness (zero: none)
}

type tableBatch struct {
	t   *Table
	ops []op
}

type rejected struct {
	rec    *kgo.Record
	table  string
	reason string
}

// toOp decodes and converts r for t. A returned error is either transient
// (the caller retries the batch) or the reason to reject r.
func (l *Loader) toOp(ctx context.Context, t *Table, r *kgo.Record) (op, error) {
	o := op{rec: r, ts: r.Timestamp.UTC().Truncate(time.Microsecond)}
	if r.Value == nil {
		if len(t.Key) == 0 {
			return o, errors.New("tombstone on an append-only table (it has no key to delete)")
		}
		var keyNative any
		if len(r.Key) > 5 && r.Key[0] == 0 {
			n, _, err := l.serde.Decode(ctx, r.Key)
			if err != nil && transient(err) {
				return o, err
			}
			keyNative = n
		}
		k, err := keyFromRecordKey(t, r.Key, keyNative)
		if err != nil {
			return o, err
		}
		o.del, o.key = true, k
		return o, nil
	}
	native, _, err := l.serde.Decode(ctx, r.Value)
	if err != nil {
		return o, err
	}
	row, err := convertRecord(t, native)
	if err != nil {
		return o, err
	}
	o.row = row
	o.key = keyOf(t, row)
	if t.EventTime == "" {
		o.event = o.ts
	} else {
		for i, c := range t.Columns {
			if c.Name == t.EventTime {
				if tm, ok := row[i].(time.Time); ok {
					o.event = tm
				}
			}
		}
	}
	return o, nil
}

// transient tells a failure to reach the registry (retry) from a value
// that cannot be decoded (reject).
func transient(err error) bool {
	var re *avro.RegistryError
	if errors.As(err, &re) {
		return re.Status >= 500 || re.Status == 429
	}
	var ue *url.Error
	var ne net.Error
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ue) || errors.As(err, &ne)
}

// load writes recs (minus those the warehouse already holds) in one
// transaction. With rejectAll set, every record is rejected with that reason.
func (l *Loader) load(ctx context.Context, recs []*kgo.Record) error {
	return l.loadAs(ctx, recs, nil)
}

func (l *Loader) reject(ctx context.Context, r *kgo.Record, reason error) error {
	return l.loadAs(ctx, []*kgo.Record{r}, reason)
}

func (l *Loader) loadAs(ctx context.Context, recs []*kgo.Record, rejectAll error) error {
	l.mu.Lock()
	expect := map[topicPartition]position{}
	next := map[topicPartition]int64{}
	var todo []*kgo.Record
	for _, r := range recs {
		tp := topicPartition{r.Topic, r.Partition}
		p, owned := l.pos[tp]
		if !owned || r.Offset < p.next || l.byTopic[r.Topic] == nil {
			continue
		}
		todo = append(todo, r)
		if _, ok := expect[tp]; !ok {
			expect[tp] = p
		}
		next[tp] = max(next[tp], r.Offset+1)
	}
	l.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	start := time.Now()
	var (
		batches []*tableBatch
		byTable = map[string]*tableBatch{}
		rejects []rejected
	)
	for _, r := range todo {
		t := l.byTopic[r.Topic]
		if rejectAll != nil {
			rejects = append(rejects, rejected{r, t.Name, rejectAll.Error()})
			continue
		}
		o, err := l.toOp(ctx, t, r)
		if err != nil {
			if transient(err) {
				return fmt.Errorf("decode %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			rejects = append(rejects, rejected{r, t.Name, err.Error()})
			continue
		}
		b := byTable[t.Name]
		if b == nil {
			b = &tableBatch{t: t}
			byTable[t.Name] = b
			batches = append(batches, b)
		}
		b.ops = append(b.ops, o)
	}
	gen, err := l.write(ctx, batches, rejects, expect, next)
	if err != nil {
		return err
	}
	l.committed(time.Since(start), gen, batches, rejects, next)
	return nil
}

// committed updates the loader's state after a commit.
func (l *Loader) committed(took time.Duration, gen int64, batches []*tableBatch, rejects []rejected, next map[topicPartition]int64) {
	l.m.commit.Observe(took.Seconds())
	l.m.batches.Inc()
	tables := make([]string, 0, len(batches))
	l.mu.Lock()
	for tp, n := range next {
		if _, owned := l.pos[tp]; owned {
			l.pos[tp] = position{next: n, stored: true}
		}
	}
	l.status.Batches++
	l.status.LastCommit = l.cfg.Now().UTC()
	l.status.LastError = ""
	for _, b := range batches {
		tables = append(tables, b.t.Name)
		l.status.Rows[b.t.Name] += int64(len(b.ops))
		l.m.rows.WithLabelValues(b.t.Name).Add(float64(len(b.ops)))
	}
	for _, r := range rejects {
		l.status.Rejects[r.table]++
		l.m.rejects.WithLabelValues(r.table).Inc()
	}
	if gen > 0 {
		l.status.Generation = gen
		l.m.generation.Set(float64(gen))
	}
	l.updateLagLocked()
	fns := slices.Clone(l.onCommit)
	l.mu.Unlock()
	for _, r := range rejects {
		l.log.Warn("record rejected", "topic", r.rec.Topic, "partition", r.rec.Partition, "offset", r.rec.Offset, "table", r.table, "reason", r.reason)
	}
	l.commitKafka(next)
	l.notifyLoad(batches, nil)
	if gen > 0 {
		for _, fn := range fns {
			fn(gen, tables)
		}
	}
}

// write runs the transaction: rows, rejects, offsets (fenced), freshness
// and the generation, and on PostgreSQL the commit notification.
func (l *Loader) write(ctx context.Context, batches []*tableBatch, rejects []rejected,
	expect map[topicPartition]position, next map[topicPartition]int64,
) (gen int64, err error) {
	tx, err := begin(ctx, l.st)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.rollback()
	for _, b := range batches {
		if err := l.apply(ctx, tx, b); err != nil {
			return 0, classify(fmt.Errorf("table %s: %w", b.t.Name, err))
		}
	}
	now := l.cfg.Now().UTC()
	for _, r := range rejects {
		if _, err := tx.exec(ctx, `INSERT INTO riacho_rejects (topic, "partition", "offset", table_name, reason, record_key, value, rejected_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			r.rec.Topic, r.rec.Partition, r.rec.Offset, r.table, r.reason, nilIfEmpty(r.rec.Key), nilIfEmpty(r.rec.Value), now); err != nil {
			return 0, fmt.Errorf("write reject: %w", err)
		}
	}
	for tp, n := range next {
		p := expect[tp]
		var affected int64
		if p.stored {
			affected, err = tx.exec(ctx, `UPDATE riacho_offsets SET next_offset = $1
				WHERE consumer = $2 AND topic = $3 AND "partition" = $4 AND next_offset = $5`, n, l.cfg.Consumer, tp.topic, tp.partition, p.next)
		} else {
			affected, err = tx.exec(ctx, `INSERT INTO riacho_offsets (consumer, topic, "partition", next_offset)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, l.cfg.Consumer, tp.topic, tp.partition, n)
		}
		if err != nil {
			return 0, classify(fmt.Errorf("write offsets: %w", err))
		}
		if affected != 1 {
			return 0, fmt.Errorf("%w: %s partition %d is no longer at offset %d", errFenced, tp.topic, tp.partition, p.next)
		}
	}
	if len(batches) > 0 {
		if gen, err = l.bumpGeneration(ctx, tx, batches, now); err != nil {
			return 0, err
		}
	}
	if err := tx.commit(ctx); err != nil {
		return 0, classify(fmt.Errorf("commit: %w", err))
	}
	return gen, nil
}

// generationLock serialises generation numbers across loader replicas on PostgreSQL.
const generationLock = 0x72696163686f // "riacho"

func (l *Loader) bumpGeneration(ctx context.Context, tx dbTx, batches []*tableBatch, now time.Time) (int64, error) {
	if l.st.Dialect == store.Postgres {
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(generationLock)); err != nil {
			return 0, fmt.Errorf("lock generation: %w", err)
		}
	}
	rows, err := tx.query(ctx, `SELECT coalesce(max(generation), 0) FROM riacho_freshness`, nil)
	if err != nil || len(rows) != 1 {
		return 0, fmt.Errorf("read generation: %w", err)
	}
	gen, _ := rows[0][0].(int64)
	gen++
	for _, b := range batches {
		var maxEvent any
		var newest time.Time
		for _, o := range b.ops {
			if o.event.After(newest) {
				newest = o.event
			}
		}
		if !newest.IsZero() {
			maxEvent = newest
		}
		if _, err := tx.exec(ctx, `INSERT INTO riacho_freshness (table_name, max_event_time, loaded_at, rows_loaded, generation)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (table_name) DO UPDATE SET
			max_event_time = CASE WHEN riacho_freshness.max_event_time IS NULL OR EXCLUDED.max_event_time > riacho_freshness.max_event_time
				THEN EXCLUDED.max_event_time ELSE riacho_freshness.max_event_time END,
			loaded_at = EXCLUDED.loaded_at, rows_loaded = riacho_freshness.rows_loaded + EXCLUDED.rows_loaded,
			generation = EXCLUDED.generation`, b.t.Name, maxEvent, now, int64(len(b.ops)), gen); err != nil {
			return 0, fmt.Errorf("write freshness: %w", err)
		}
	}
	if l.st.Dialect == store.Postgres {
		if _, err := tx.exec(ctx, `SELECT pg_notify('riacho_warehouse', $1)`, strconv.FormatInt(gen, 10)); err != nil {
			return 0, fmt.Errorf("notify: %w", err)
		}
	}
	return gen, nil
}

func nilIfEmpty(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// apply writes one table's ops.
func (l *Loader) apply(ctx context.Context, tx dbTx, b *tableBatch) error {
	t := b.t
	switch {
	case t.SCD == 2:
		return l.applySCD2(ctx, tx, b)
	case len(t.Key) == 0:
		rows := make([][]any, len(b.ops))
		for i, o := range b.ops {
			rows[i] = o.row
		}
		return tx.copyRows(ctx, t.Name, columnNames(t.Columns), rows)
	}
	// Keyed: the last record of a key wins (records are in offset order).
	last := map[string]int{}
	var order []string
	for i, o := range b.ops {
		k := rowKey(o.key)
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = i
	}
	var upserts [][]any
	var deletes [][]any
	for _, k := range order {
		o := b.ops[last[k]]
		if o.del {
			deletes = append(deletes, o.key)
		} else {
			upserts = append(upserts, o.row)
		}
	}
	if len(deletes) > 0 {
		if err := tx.deleteKeys(ctx, t.Name, t.Key, deletes); err != nil {
			return err
		}
	}
	if len(upserts) > 0 {
		return tx.upsert(ctx, t, columnNames(t.Columns), upserts)
	}
	return nil
}

func columnNames(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// version is one history row of a type 2 dimension.
type version struct {
	key       []any
	row       []any
	validFrom time.Time
	validTo   *time.Time
	current   bool
	stored    bool // in the warehouse before this batch
	dirty     bool // stored, and changed by this batch
}

// applySCD2 keeps history: a changed row closes the key's current version
// (valid_to = the record's timestamp) and opens a new one from that
// timestamp; an unchanged row adds nothing; a tombstone closes the current
// version. A record whose timestamp is not after the newest version's
// valid_from rewrites that version in place (Kafka timestamps are only
// milliseconds, and may go backwards).
func (l *Loader) applySCD2(ctx context.Context, tx dbTx, b *tableBatch) error {
	t := b.t
	keys := map[string][]any{}
	for _, o := range b.ops {
		keys[rowKey(o.key)] = o.key
	}
	last, err := l.newestVersions(ctx, tx, t, keys)
	if err != nil {
		return err
	}
	stored := make([]*version, 0, len(last))
	for _, v := range last {
		stored = append(stored, v)
	}
	var inserts []*version
	for _, o := range b.ops {
		k := rowKey(o.key)
		v := last[k]
		if o.del {
			if v != nil && v.current {
				to := o.ts
				if to.Before(v.validFrom) {
					to = v.validFrom
				}
				v.validTo, v.current, v.dirty = &to, false, true
			}
			continue
		}
		if v != nil && v.current && sameRow(v.row, o.row) {
			continue
		}
		if v != nil && !o.ts.After(v.validFrom) {
			v.row, v.validTo, v.current, v.dirty = o.row, nil, true, true
			continue
		}
		if v != nil && v.current {
			to := o.ts
			v.validTo, v.current, v.dirty = &to, false, true
		}
		nv := &version{key: o.key, row: o.row, validFrom: o.ts, current: true}
		last[k] = nv
		inserts = append(inserts, nv)
	}
	cols := append(columnNames(t.Columns), colValidFrom, colValidTo, colIsCurrent)
	var updates []*version
	for _, v := range stored {
		if v.dirty {
			updates = append(updates, v)
		}
	}
	for _, v := range updates {
		if _, err := tx.exec(ctx, updateVersionSQL(t), updateVersionArgs(v)...); err != nil {
			return err
		}
	}
	rows := make([][]any, 0, len(inserts))
	for _, v := range inserts {
		rows = append(rows, append(slices.Clone(v.row), v.validFrom, timeOrNil(v.validTo), v.current))
	}
	if len(rows) > 0 {
		return tx.copyRows(ctx, t.Name, cols, rows)
	}
	return nil
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}
