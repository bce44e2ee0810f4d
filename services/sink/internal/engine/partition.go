package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/sink/internal/avroparquet"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// batch is a slice of one partition's records from one poll, stamped with
// the partition's seek generation at dispatch.
type batch struct {
	gen  uint64
	recs []*kgo.Record
}

// seekRequest asks the poll loop to move a partition's fetch position.
type seekRequest struct {
	p      *partition
	offset int64
	gen    uint64
}

// partition writes one Kafka partition. Its goroutine owns every field
// below "worker state"; the poll loop only sends batches and reads gen.
type partition struct {
	e      *Engine
	topic  string
	part   int32
	target Target
	log    *slog.Logger

	in   chan batch
	quit chan string // a reason: abandon open files and exit
	// flushes asks the worker to commit its open range now; it answers the
	// records committed, or -1 when the range was abandoned instead.
	flushes chan chan int64
	done    chan struct{}
	ctx     context.Context // cancelled when the partition is abandoned or the engine stops
	stop    context.CancelFunc
	// dispatchGen is written by the poll loop only (after it applied a seek).
	dispatchGen atomic.Uint64

	// worker state
	gen        uint64 // batches of other generations are stale
	start      int64  // first offset of the open range (-1: the next record's)
	next       int64  // offset after the last record read (-1: none yet)
	schema     *writerSchema
	conv       *avroparquet.Converter // p.schema's converter for the table
	table      *table.Table           // the table p.schema's files go to
	files      map[int64]*stagedFile  // by UTC day (unix seconds)
	opened     time.Time              // when the range got its first record
	rangeRecs  int64                  // records of the range (written, dead-lettered, skipped)
	rangeBytes int64                  // Avro bytes of the range
	written    int64                  // records of the range in files
	failures   int
	dlq        dlqWait
	commitDone func(CommitOutcome) // set while flush commits a range

	mu sync.Mutex // guards st, read by Status
	st PartitionStatus
}

// newPartition creates the writer of one assigned partition starting at
// start (-1: at the first record delivered).
func (e *Engine) newPartition(topic string, part int32, target Target, start int64) *partition {
	ctx, cancel := context.WithCancel(e.workCtx)
	p := &partition{
		e: e, topic: topic, part: part, target: target,
		log:     e.log.With("topic", topic, "partition", part),
		in:      make(chan batch, e.cfg.QueueBatches),
		quit:    make(chan string, 1),
		done:    make(chan struct{}),
		flushes: make(chan chan int64),
		ctx:     ctx,
		stop:    cancel,
		start:   start, next: start,
		files: map[int64]*stagedFile{},
	}
	p.st = PartitionStatus{Topic: topic, Partition: part, Table: target.Table(), Committed: start, Next: start}
	return p
}

// run processes batches until the partition is revoked (open files are
// abandoned) or the engine drains (open files are committed).
func (p *partition) run(drain <-chan struct{}) {
	defer close(p.done)
	defer p.stop()
	tick := p.e.cfg.RotateInterval / 4
	tick = min(max(tick, 10*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case why := <-p.quit:
			p.abandon(why)
			return
		case <-drain:
			p.drain()
			return
		case b := <-p.in:
			if b.gen != p.gen {
				continue // fetched before a seek: stale
			}
			p.process(b)
		case reply := <-p.flushes:
			n := p.rangeRecs
			if !p.flush("operator") {
				n = -1
			}
			reply <- n
		case <-t.C:
			if p.due(time.Now()) {
				p.flush("interval")
			}
		}
	}
}

// drain commits what is open and whatever is already queued, at shutdown.
func (p *partition) drain() {
	for {
		select {
		case b := <-p.in:
			if b.gen == p.gen {
				p.process(b)
			}
			continue
		default:
		}
		break
	}
	if p.ctx.Err() == nil {
		p.flush("shutdown")
	}
	p.abandon("shutdown")
}

func (p *partition) process(b batch) {
	for _, rec := range b.recs {
		if p.ctx.Err() != nil || p.gen != b.gen {
			return // stopping, or the range was dropped and is read again
		}
		if p.next >= 0 && rec.Offset < p.next {
			continue // before the position: already handled
		}
		if err := p.handle(rec); err != nil {
			// Not the record's fault (registry, lake or table unreachable):
			// drop the range and read it again after a pause.
			p.resync("error", err)
			return
		}
		if p.gen == b.gen && p.full() {
			p.flush("rotation")
		}
	}
	for _, f := range p.files {
		if err := f.flushRows(); err != nil {
			p.resync("error", err)
			return
		}
	}
	if p.gen == b.gen && p.due(time.Now()) {
		p.flush("rotation")
	}
	p.publish()
}

// handle writes one record into the open range, or sends it to the
// dead-letter topic. An error means the record could not be handled for a
// reason other than its content. When a schema change commits the range
// and that fails, the range is dropped (p.gen moves on) and nil returned.
func (p *partition) handle(rec *kgo.Record) error {
	e := p.e
	if p.start < 0 {
		p.start = rec.Offset // the table has no offset: the range starts here
	}
	if rec.Value == nil { // tombstone: nothing to write
		e.metrics.skipped.WithLabelValues(p.topic).Inc()
		p.advance(rec)
		return nil
	}
	id, _, err := avro.SplitWire(rec.Value)
	if err != nil {
		p.deadLetter(p.ctx, rec, 0, dlqWire, fmt.Errorf("not a schema-registry Avro value: %w", err))
		p.advance(rec)
		return nil
	}
	ws := p.schema
	if ws == nil || ws.id != id {
		if ws, err = e.schemas.get(p.ctx, id); err != nil {
			return err
		}
	}
	if ws.err != nil { // the schema cannot be written: the record's fault, not the sink's
		p.deadLetter(p.ctx, rec, id, dlqSchema, ws.err)
		p.advance(rec)
		return nil //nolint:nilerr // dead-lettered, the partition goes on
	}
	if p.schema != ws {
		if why := e.tables.refusal(p.target, id); why != nil {
			// The table refused this writer schema before: no evolution again.
			p.refused(rec, id, why)
			return nil
		}
	}
	native, _, err := e.serde.Decode(p.ctx, rec.Value)
	if err != nil {
		if p.ctx.Err() != nil {
			return p.ctx.Err()
		}
		p.deadLetter(p.ctx, rec, id, dlqDecode, err)
		p.advance(rec)
		return nil
	}
	if p.schema != ws {
		if len(p.files) > 0 {
			// A new writer schema: commit the files of the old one first.
			gen := p.gen
			p.flush("schema change")
			if p.gen != gen {
				return nil // the range was dropped; this record is read again
			}
		}
		t, conv, err := e.tables.forSchema(p.ctx, p.target, ws)
		if errors.Is(err, table.ErrSchemaIncompatible) {
			p.log.Error("the table cannot take the writer schema; its records go to the dead-letter topic",
				"table", p.target.Table(), "schema_id", id, "error", err)
			p.refused(rec, id, err)
			return nil
		}
		if err != nil {
			return err
		}
		p.schema, p.conv, p.table = ws, conv, t
	}
	ts, ok := ws.timer.Time(native)
	if !ok {
		ts = rec.Timestamp
	}
	ts = ts.UTC()
	day := time.Date(ts.Year(), ts.Month(), ts.Day(), 0, 0, 0, 0, time.UTC)
	f := p.files[day.Unix()]
	if f == nil {
		if f, err = p.openFile(day, rec.Offset); err != nil {
			return err
		}
		p.files[day.Unix()] = f
	}
	n := len(f.rows)
	f.rows, err = p.conv.AppendRow(f.rows, native)
	if err != nil {
		f.rows = f.rows[:n]
		p.deadLetter(p.ctx, rec, id, dlqConvert, fmt.Errorf("convert to parquet: %w", err))
		p.advance(rec)
		return nil
	}
	if len(f.rows) != n+1 {
		return fmt.Errorf("converter appended %d rows for one record", len(f.rows)-n)
	}
	f.records++
	f.last = rec.Offset
	if len(f.rows) >= rowBatch {
		if err := f.flushRows(); err != nil {
			return err
		}
	}
	p.written++
	p.advance(rec)
	return nil
}

// refused dead-letters rec, whose writer schema id the table cannot take,
// and notes the id in the partition's status.
func (p *partition) refused(rec *kgo.Record, id uint32, why error) {
	p.deadLetter(p.ctx, rec, id, dlqIncompatible, why)
	p.advance(rec)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.st.RefusedSchemas, id) {
		p.st.RefusedSchemas = append(p.st.RefusedSchemas, id)
		slices.Sort(p.st.RefusedSchemas)
	}
}

// advance adds rec to the open range.
func (p *partition) advance(rec *kgo.Record) {
	if p.start < 0 {
		p.start = rec.Offset
	}
	if p.rangeRecs == 0 {
		p.opened = time.Now()
	}
	p.next = rec.Offset + 1
	p.rangeRecs++
	p.rangeBytes += int64(len(rec.Value))
}

// full is due's cheap part, checked after every record: the record and
// input byte limits.
func (p *partition) full() bool {
	return p.rangeRecs >= p.e.cfg.RotateRecords || p.rangeBytes >= p.e.cfg.RotateBytes
}

// due reports whether the open range must be committed now.
func (p *partition) due(now time.Time) bool {
	if p.rangeRecs == 0 {
		return false
	}
	c := p.e.cfg
	if p.rangeRecs >= c.RotateRecords || now.Sub(p.opened) >= c.RotateInterval {
		return true
	}
	bytes := p.rangeBytes
	var out int64
	for _, f := range p.files {
		out += max(f.cw.n, f.pw.Size())
	}
	return max(bytes, out) >= c.RotateBytes
}

// flush closes the open files and commits them with the range's offsets.
// It returns false when the range was abandoned instead (it is then read
// again from the table's offset).
func (p *partition) flush(why string) bool {
	if p.rangeRecs == 0 {
		return true
	}
	p.beginCommit()
	e := p.e
	files := make([]*stagedFile, 0, len(p.files))
	for _, f := range p.files {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].day.Before(files[j].day) })
	var staged []table.StagedFile
	var outBytes int64
	for _, f := range files {
		if f.records == 0 { // opened for a record that was then dead-lettered
			f.abort(e)
			continue
		}
		if err := f.close(); err != nil {
			p.resync("error", err)
			return false
		}
		staged = append(staged, f.staged())
		outBytes += f.cw.n
	}
	if err := p.dlq.wait(); err != nil {
		p.resync("error", fmt.Errorf("dead letters not acknowledged: %w", err))
		return false
	}
	start, next := p.start, p.next
	t := p.table
	if len(staged) == 0 && t == nil {
		// Only tombstones and dead letters, and no table yet: the group
		// offset alone records the progress (the table has nothing for
		// this partition, so the group offset is where a new owner starts).
		var err error
		if t, err = e.tables.existing(p.ctx, p.target); err != nil {
			p.resync("error", err)
			return false
		}
		if t == nil {
			e.commitGroup(p, next)
			p.resetRange(next)
			p.publish()
			p.endCommit(CommitOutcome{})
			return true
		}
	}
	req := table.CommitRequest{
		Topic: p.topic, Zone: p.target.Zone, Source: p.target.Source, Entity: p.target.Entity,
		Layout: e.layout, Files: staged,
		Start: map[int32]int64{p.part: start},
		Next:  map[int32]int64{p.part: next},
	}
	var (
		info table.SnapshotInfo
		err  error
	)
	for attempt := 0; ; attempt++ {
		began := time.Now()
		info, err = t.Commit(p.ctx, req)
		e.commitSeconds.Observe(time.Since(began).Seconds())
		if err == nil || errors.Is(err, table.ErrAlreadyCommitted) || errors.Is(err, table.ErrGap) ||
			errors.Is(err, table.ErrSchemaMismatch) || p.ctx.Err() != nil || attempt >= e.cfg.CommitRetries {
			break
		}
		p.log.Warn("table commit failed; retrying", "table", p.target.Table(), "attempt", attempt+1, "error", err)
		if !p.sleep(time.Duration(attempt+1) * 200 * time.Millisecond) {
			break
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, table.ErrAlreadyCommitted):
		e.metrics.commits.WithLabelValues(p.topic, "already_committed").Inc()
		p.resync("already_committed", err)
		return false
	case errors.Is(err, table.ErrGap):
		e.metrics.commits.WithLabelValues(p.topic, "gap").Inc()
		p.resync("gap", err)
		return false
	case errors.Is(err, table.ErrSchemaMismatch) && p.schema != nil && p.ctx.Err() == nil:
		// The range's files are all of p.schema (a schema change commits
		// the files of the old one first). Refuse that schema and read the
		// range again: its records then go to the dead-letter topic.
		e.metrics.commits.WithLabelValues(p.topic, "schema_mismatch").Inc()
		why := fmt.Errorf("table %s refused the files of writer schema %d: %w", p.target.Table(), p.schema.id, err)
		p.log.Error("the table refused the files of a writer schema; its records go to the dead-letter topic",
			"table", p.target.Table(), "schema_id", p.schema.id, "error", err)
		e.tables.refuse(p.target, p.schema.id, why)
		p.schema, p.conv = nil, nil
		p.resync("schema_mismatch", why)
		return false
	default:
		e.metrics.commits.WithLabelValues(p.topic, "error").Inc()
		p.resync("error", err)
		return false
	}
	e.metrics.commits.WithLabelValues(p.topic, "ok").Inc()
	e.metrics.records.WithLabelValues(p.topic).Add(float64(p.written))
	e.metrics.bytesIn.WithLabelValues(p.topic).Add(float64(p.rangeBytes))
	e.metrics.bytesOut.WithLabelValues(p.topic).Add(float64(outBytes))
	e.metrics.files.WithLabelValues(p.topic).Add(float64(len(staged)))
	e.records.Add(p.written)
	e.bytes.Add(outBytes)
	e.files.Add(int64(len(staged)))
	e.commits.Add(1)
	if e.deps.OnCommit != nil {
		e.deps.OnCommit(p.topic, p.written, outBytes)
	}
	p.endCommit(CommitOutcome{Records: p.written, Bytes: outBytes, Files: int64(len(staged))})
	p.log.Debug("range committed", "why", why, "table", p.target.Table(), "start", start, "next", next,
		"files", len(staged), "records", p.written, "snapshot", info.ID)
	p.failures = 0
	p.files = map[int64]*stagedFile{}
	e.commitGroup(p, next)
	p.resetRange(next)
	p.mu.Lock()
	p.st.LastCommit = time.Now()
	p.st.LastSnapshot = info.ID
	p.st.LastError = ""
	p.mu.Unlock()
	p.publish()
	return true
}

func (p *partition) resetRange(next int64) {
	p.start, p.next = next, next
	p.rangeRecs, p.rangeBytes, p.written = 0, 0, 0
	p.mu.Lock()
	p.st.Committed = next
	p.mu.Unlock()
}

// abandon drops the open files; nothing of the range was committed.
func (p *partition) abandon(why string) {
	if len(p.files) > 0 || p.rangeRecs > 0 {
		p.e.metrics.abandons.WithLabelValues(p.topic, why).Inc()
		p.log.Info("open range abandoned", "why", why, "start", p.start, "next", p.next, "files", len(p.files))
	}
	for _, f := range p.files {
		f.abort(p.e)
	}
	p.files = map[int64]*stagedFile{}
	_ = p.dlq.wait() // dead letters may repeat when the range is read again
}

// resync abandons the open range, finds where the table says the partition
// continues, and asks the poll loop to fetch from there; batches fetched
// before that are dropped by their generation.
func (p *partition) resync(why string, cause error) {
	p.endCommit(CommitOutcome{Err: cause})
	p.abandon(why)
	lvl := slog.LevelWarn
	if why == "error" {
		lvl = slog.LevelError
	}
	p.log.Log(p.ctx, lvl, "range dropped; reading again from the table's offset", "why", why, "error", cause)
	p.mu.Lock()
	p.st.LastError = cause.Error()
	p.mu.Unlock()
	if why == "error" {
		p.failures++
		if !p.sleep(min(time.Duration(1<<min(p.failures, 8))*100*time.Millisecond, 30*time.Second)) {
			return
		}
	}
	target := p.start
	for p.ctx.Err() == nil {
		offs, err := p.e.tables.offsets(p.ctx, p.target)
		if err == nil {
			if n, ok := offs[p.part]; ok {
				target = n
			}
			break
		}
		p.log.Warn("reading the table's offsets failed; retrying", "error", err)
		if !p.sleep(time.Second) {
			return
		}
	}
	p.resetRange(target)
	if target < 0 {
		return // nothing was read: the fetch position is still the range's start
	}
	p.gen++
	p.e.requestSeek(seekRequest{p: p, offset: target, gen: p.gen})
	p.publish()
}

// sleep waits d unless the partition stops first.
func (p *partition) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// publish copies the worker state Status shows.
func (p *partition) publish() {
	open := 0
	for _, f := range p.files {
		if !f.closed {
			open++
		}
	}
	p.mu.Lock()
	p.st.Next = p.next
	p.st.OpenFiles = open
	p.st.PendingRecords = p.rangeRecs
	p.mu.Unlock()
}
