package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/iceberg-go"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/services/sink/internal/avroparquet"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// writerSchema is what the engine knows of one Avro writer schema id.
type writerSchema struct {
	id   uint32
	text string
	// ice is the schema's own Iceberg form (fresh field ids), used to create
	// or evolve a table; files are written by a converter built against the
	// table's schema so that they carry the table's field ids.
	ice   *iceberg.Schema
	timer *eventTimer
	// err is why records of this schema cannot be written (they go to the
	// dead-letter topic); nil when they can.
	err error
}

// errTransient marks failures that are not the record's fault (the
// registry is unreachable): the record is retried, never dead-lettered.
var errTransient = errors.New("transient")

// schemas caches the writer schemas by id.
type schemas struct {
	reg    *avro.Client
	fields []string

	mu   sync.Mutex
	byID map[uint32]*writerSchema
}

// get returns writer schema id, fetched and compiled the first time. A
// schema the registry does not know, or that cannot be mapped to Parquet,
// comes back with err set; a registry that cannot be reached is an error
// wrapping errTransient.
func (s *schemas) get(ctx context.Context, id uint32) (*writerSchema, error) {
	s.mu.Lock()
	ws, ok := s.byID[id]
	s.mu.Unlock()
	if ok {
		return ws, nil
	}
	text, err := s.reg.SchemaByID(ctx, int(id))
	ws = &writerSchema{id: id, text: text}
	switch {
	case errors.Is(err, avro.ErrSchemaNotFound):
		ws.err = fmt.Errorf("writer schema id %d is not in the registry: %w", id, err)
	case err != nil:
		return nil, fmt.Errorf("%w: fetch writer schema %d: %w", errTransient, id, err)
	default:
		conv, cerr := avroparquet.New(text, avroparquet.Options{})
		if cerr != nil {
			ws.err = fmt.Errorf("writer schema id %d cannot be mapped to parquet: %w", id, cerr)
		} else {
			ws.ice = conv.IcebergSchema()
			ws.timer, ws.err = newEventTimer(text, s.fields)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.byID[id]; ok {
		return prev, nil
	}
	s.byID[id] = ws
	return ws, nil
}

// tables caches the Iceberg tables the engine writes to. A table is
// (re)opened with each new writer schema so that its schema is evolved
// before files of that schema are committed.
type tables struct {
	cat *table.Catalog

	mu     sync.Mutex
	byName map[string]*tableEntry
}

type tableEntry struct {
	mu    sync.Mutex
	t     *table.Table
	convs map[uint32]*avroparquet.Converter // by writer schema id, with the table's field ids
	// refused holds the writer schema ids the table cannot take, with the
	// reason (wrapping table.ErrSchemaIncompatible or table.ErrSchemaMismatch).
	// Their records go to the dead-letter topic without trying the evolution
	// again; the set lives as long as the engine, so a restart tries again.
	refused map[uint32]error
}

func (ts *tables) entry(name string) *tableEntry {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	te, ok := ts.byName[name]
	if !ok {
		te = &tableEntry{convs: map[uint32]*avroparquet.Converter{}, refused: map[uint32]error{}}
		ts.byName[name] = te
	}
	return te
}

// forSchema returns target's table, created or evolved to hold ws's
// fields, and the converter of ws that writes the table's field ids. An
// error wrapping table.ErrSchemaIncompatible means the table cannot take
// ws (now or earlier in this process; see refusal): the records of ws are
// dead-lettered. Any other error is not the schema's fault.
func (ts *tables) forSchema(ctx context.Context, target Target, ws *writerSchema) (*table.Table, *avroparquet.Converter, error) {
	te := ts.entry(target.Table())
	te.mu.Lock()
	defer te.mu.Unlock()
	if err := te.refused[ws.id]; err != nil {
		return nil, nil, err
	}
	if c, ok := te.convs[ws.id]; ok && te.t != nil {
		return te.t, c, nil
	}
	t, err := ts.cat.Table(ctx, target.Namespace(), target.Entity, ws.ice)
	if err != nil {
		err = fmt.Errorf("open table %s with writer schema %d: %w", target.Table(), ws.id, err)
		if errors.Is(err, table.ErrSchemaIncompatible) && ctx.Err() == nil {
			te.refused[ws.id] = err
		}
		return nil, nil, err
	}
	base, err := t.Schema(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("schema of table %s: %w", target.Table(), err)
	}
	conv, err := avroparquet.New(ws.text, avroparquet.Options{Base: base})
	if err != nil {
		// The table took the schema but its columns do not fit the writer's
		// (no I/O here): the schema's fault.
		err = fmt.Errorf("writer schema %d against table %s: %w: %w", ws.id, target.Table(), table.ErrSchemaIncompatible, err)
		te.refused[ws.id] = err
		return nil, nil, err
	}
	te.t = t
	te.convs[ws.id] = conv
	return t, conv, nil
}

// refusal returns why target's table refused writer schema id in this
// process (nil when it did not).
func (ts *tables) refusal(target Target, id uint32) error {
	te := ts.entry(target.Table())
	te.mu.Lock()
	defer te.mu.Unlock()
	return te.refused[id]
}

// refuse records that target's table cannot take writer schema id, and
// forgets its converter.
func (ts *tables) refuse(target Target, id uint32, reason error) {
	te := ts.entry(target.Table())
	te.mu.Lock()
	defer te.mu.Unlock()
	te.refused[id] = reason
	delete(te.convs, id)
}

// existing returns target's table when it exists (nil, nil when it does not).
func (ts *tables) existing(ctx context.Context, target Target) (*table.Table, error) {
	te := ts.entry(target.Table())
	te.mu.Lock()
	defer te.mu.Unlock()
	if te.t != nil {
		return te.t, nil
	}
	t, err := ts.cat.Table(ctx, target.Namespace(), target.Entity, nil)
	if errors.Is(err, table.ErrNoSuchTable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	te.t = t
	return t, nil
}

// offsets returns the next offset per partition recorded in target's table
// for its topic; an empty map when the table does not exist yet.
func (ts *tables) offsets(ctx context.Context, target Target) (map[int32]int64, error) {
	t, err := ts.existing(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("load table %s: %w", target.Table(), err)
	}
	if t == nil {
		return map[int32]int64{}, nil
	}
	offs, err := t.Offsets(ctx, target.Topic)
	if err != nil {
		return nil, fmt.Errorf("offsets of %s in table %s: %w", target.Topic, target.Table(), err)
	}
	return offs, nil
}
