package pgtypes

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Querier runs a query; *pgx.Conn, *pgxpool.Pool and pgx.Tx satisfy it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Column is a column as a pgoutput Relation message or pg_attribute describes it.
type Column struct {
	Name    string
	OID     uint32 // type OID (atttypid)
	TypeMod int32  // type modifier (atttypmod), -1 when none
}

// Mapping says how one column type is written in Avro.
type Mapping struct {
	// Type is the Avro schema of the non-null type: a primitive name ("long") or a map
	// (logical types, arrays, the VariableScaleDecimal record, strings with properties).
	// It is shared by every caller of Map and must not be modified.
	Type any
	// SourceType is PostgreSQL's name of the type as format_type prints it, e.g.
	// "numeric(12,2)", "timestamp with time zone", "mood", "integer[]".
	SourceType string
	// Decode turns a non-NULL value in PostgreSQL's text format into the value form of
	// Type. It never keeps text. Errors wrap ErrNotRepresentable or ErrMalformed.
	Decode func(text []byte) (any, error)
}

// Catalog maps columns by type OID, looking each type (and its element or base type) up in
// pg_type once and caching the answer. It is safe for concurrent use; lookups are run one
// at a time on the Querier.
type Catalog struct {
	q Querier

	qmu sync.Mutex // serialises catalog queries (a *pgx.Conn runs one at a time)

	mu    sync.RWMutex
	gen   uint64
	cache map[typeKey]*entry
}

type typeKey struct {
	oid    uint32
	typmod int32
}

// entry is a cached mapping plus what a containing array needs to know about it.
type entry struct {
	m     Mapping
	delim byte // typdelim: the element separator when this type is an array element
	array bool // the mapping is an Avro array
}

// maxTypeDepth bounds domain and array nesting while resolving a type.
const maxTypeDepth = 16

// NewCatalog returns a Catalog that looks types up through q.
func NewCatalog(q Querier) *Catalog {
	return &Catalog{q: q, cache: make(map[typeKey]*entry)}
}

// Forget drops every cached mapping, so the next Map looks types up again (call it after
// DDL, e.g. when a Relation message arrives again).
func (c *Catalog) Forget() {
	c.mu.Lock()
	c.gen++
	c.cache = make(map[typeKey]*entry)
	c.mu.Unlock()
}

// Map returns the Avro mapping of col's type. It fails only when the catalog query fails;
// a type it does not know maps to "string" with the value's text as is.
func (c *Catalog) Map(ctx context.Context, col Column) (Mapping, error) {
	if col.TypeMod < -1 {
		col.TypeMod = -1
	}
	e, err := c.resolve(ctx, col.OID, col.TypeMod, 0)
	if err != nil {
		return Mapping{}, fmt.Errorf("map column %q (type oid %d): %w", col.Name, col.OID, err)
	}
	return e.m, nil
}

func (c *Catalog) cached(k typeKey) (*entry, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cache[k], c.gen
}

func (c *Catalog) store(k typeKey, e *entry, gen uint64) {
	c.mu.Lock()
	if c.gen == gen {
		c.cache[k] = e
	}
	c.mu.Unlock()
}

// typeRow is what the catalog says about one type.
type typeRow struct {
	typtype  string   // b base, c composite, d domain, e enum, p pseudo, r range, m multirange
	delim    string   // typdelim
	elem     uint32   // typelem
	base     uint32   // typbasetype (domains)
	basemod  int32    // typtypmod (domains)
	isArray  bool     // typinput = array_in
	format   string   // format_type(oid, typmod)
	labels   []string // enum labels in sort order
	notFound bool
}

const typeQuery = `SELECT t.typtype::text, t.typdelim::text, t.typelem, t.typbasetype, t.typtypmod,
	t.typinput = 'array_in'::regproc, format_type(t.oid, $2::int4),
	CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
		WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END
FROM pg_catalog.pg_type t WHERE t.oid = $1::oid`

func (c *Catalog) lookup(ctx context.Context, oid uint32, typmod int32) (typeRow, error) {
	var r typeRow
	rows, err := c.q.Query(ctx, typeQuery, oid, typmod)
	if err != nil {
		return r, fmt.Errorf("look up type %d: %w", oid, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return r, fmt.Errorf("look up type %d: %w", oid, err)
		}
		r.notFound = true
		return r, nil
	}
	var format *string
	if err := rows.Scan(&r.typtype, &r.delim, &r.elem, &r.base, &r.basemod, &r.isArray, &format, &r.labels); err != nil {
		return r, fmt.Errorf("look up type %d: %w", oid, err)
	}
	if format != nil {
		r.format = *format
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("look up type %d: %w", oid, err)
	}
	return r, nil
}

var errTooDeep = errors.New("type nesting too deep")

func (c *Catalog) resolve(ctx context.Context, oid uint32, typmod int32, depth int) (*entry, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type %d: %w", oid, errTooDeep)
	}
	k := typeKey{oid, typmod}
	if e, _ := c.cached(k); e != nil {
		return e, nil
	}
	c.qmu.Lock()
	e, gen := c.cached(k)
	if e != nil {
		c.qmu.Unlock()
		return e, nil
	}
	r, err := c.lookup(ctx, oid, typmod)
	c.qmu.Unlock()
	if err != nil {
		return nil, err
	}
	e, err = c.build(ctx, oid, typmod, r, depth)
	if err != nil {
		return nil, err
	}
	if !r.notFound {
		c.store(k, e, gen)
	}
	return e, nil
}

func (c *Catalog) build(ctx context.Context, oid uint32, typmod int32, r typeRow, depth int) (*entry, error) {
	delim := byte(',')
	if len(r.delim) == 1 {
		delim = r.delim[0]
	}
	switch {
	case r.notFound:
		return &entry{m: stringMapping(fmt.Sprintf("unknown type (oid %d)", oid)), delim: delim}, nil
	case r.typtype == "d" && r.base != 0:
		mod := typmod
		if mod < 0 {
			mod = r.basemod
		}
		base, err := c.resolve(ctx, r.base, mod, depth+1)
		if err != nil {
			return nil, err
		}
		e := *base
		e.m.SourceType = r.format
		return &e, nil
	case r.isArray && r.elem != 0:
		el, err := c.resolve(ctx, r.elem, typmod, depth+1)
		if err != nil {
			return nil, err
		}
		if el.array {
			// Arrays of arrays (e.g. of a domain over an array type) stay text.
			return &entry{m: stringMapping(r.format), delim: delim}, nil
		}
		return &entry{m: arrayMapping(r.format, el), delim: delim, array: true}, nil
	case r.typtype == "e":
		return &entry{m: enumMapping(r.format, r.labels), delim: delim}, nil
	case r.typtype == "b":
		m := builtinMapping(oid, typmod, r.format)
		return &entry{m: m, delim: delim}, nil
	default:
		return &entry{m: stringMapping(r.format), delim: delim}, nil
	}
}
